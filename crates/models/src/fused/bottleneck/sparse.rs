//! The sparse bottleneck: sigmoid activations pushed towards a target mean by a KL penalty.

use rand::RngCore;

use super::{Bottleneck, LatentMode};
use crate::kernels::loss::sigmoid;
use crate::kernels::simd;

/// `z = sigmoid(e)`; loss `beta * sum_j KL(p || q_j)` with `q_j` the batch mean of `z_j` and
/// `KL(p||q) = p ln(p/q) + (1-p) ln((1-p)/(1-q))`.
#[derive(Debug)]
pub struct Sparse {
    sparsity: f32,
    beta: f32,
    z: Vec<f32>,
    mean: Vec<f32>,
    grad_e: Vec<f32>,
}

impl Sparse {
    /// A sparse bottleneck with target activation `sparsity` and weight `beta`.
    pub fn new(sparsity: f32, beta: f32) -> Self {
        Self {
            sparsity,
            beta,
            z: Vec::new(),
            mean: Vec::new(),
            grad_e: Vec::new(),
        }
    }
}

/// `KL(p || q)` of two Bernoulli distributions.
pub fn bernoulli_kl(p: f64, q: f64) -> f64 {
    p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln()
}

impl Sparse {
    /// `z`, the batch means of its rows and the loss.
    fn compute(&self, e: &[f32], n: usize) -> (Vec<f32>, Vec<f32>, f64) {
        let z: Vec<f32> = e.iter().map(|&v| sigmoid(v)).collect();
        let mean: Vec<f32> = z
            .chunks_exact(n)
            .map(|row| simd::sum(row) / n as f32)
            .collect();
        let p = self.sparsity as f64;
        let loss = self.beta as f64 * mean.iter().map(|&q| bernoulli_kl(p, q as f64)).sum::<f64>();
        (z, mean, loss)
    }
}

impl Bottleneck for Sparse {
    fn forward(&mut self, e: &[f32], n: usize, _mode: LatentMode, _rng: &mut dyn RngCore) -> f64 {
        let (z, mean, loss) = self.compute(e, n);
        self.z = z;
        self.mean = mean;
        loss
    }

    fn infer(
        &self,
        e: &[f32],
        n: usize,
        _mode: LatentMode,
        _rng: &mut dyn RngCore,
    ) -> (Vec<f32>, f64) {
        let (z, _, loss) = self.compute(e, n);
        (z, loss)
    }

    fn latent(&self) -> &[f32] {
        &self.z
    }

    fn backward(&mut self, _e: &[f32], grad_z: &[f32], n: usize) -> &[f32] {
        let p = self.sparsity;
        self.grad_e.clear();
        for ((zrow, grow), &q) in self
            .z
            .chunks_exact(n)
            .zip(grad_z.chunks_exact(n))
            .zip(&self.mean)
        {
            // d/dq KL(p||q) = -p/q + (1-p)/(1-q); q is a mean over the batch, hence the 1/n.
            let d_mean = self.beta * (-p / q + (1.0 - p) / (1.0 - q)) / n as f32;
            self.grad_e.extend(
                zrow.iter()
                    .zip(grow)
                    .map(|(&z, &g)| (g + d_mean) * z * (1.0 - z)),
            );
        }
        &self.grad_e
    }
}
