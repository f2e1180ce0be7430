//! The vector-quantised bottleneck: one scalar codebook per latent dimension.

use rand::{Rng, RngCore};

use super::{Bottleneck, LatentMode};
use crate::param::{named, named_mut, NamedTensor, NamedTensorMut, Param};

/// Each latent dimension `j` has its own codebook of `K` scalars (init U(-1/K, 1/K));
/// `z_j` is the code nearest to `e_j`; loss `mean_batch(sum_j((sg(e) - z)^2 + beta (e - sg(z))^2))`;
/// the decoder's gradient passes straight through from `z` to `e`.
#[derive(Debug)]
pub struct VectorQuantized {
    latent_dim: usize,
    num_codes: usize,
    beta: f32,
    /// Codebooks, `[latent_dim, num_codes]` (the reference stores `[1, latent_dim, num_codes]`).
    pub codebook: Param,
    z: Vec<f32>,
    code_index: Vec<usize>,
    grad_e: Vec<f32>,
}

impl VectorQuantized {
    /// Codebooks for `latent_dim` dimensions of `num_codes` scalars each.
    pub fn new(latent_dim: usize, num_codes: usize, beta: f32, rng: &mut dyn RngCore) -> Self {
        let bound = 1.0 / num_codes as f32;
        let codebook = Param::uniform(vec![latent_dim, num_codes], bound, rng);
        Self {
            latent_dim,
            num_codes,
            beta,
            codebook,
            z: Vec::new(),
            code_index: Vec::new(),
            grad_e: Vec::new(),
        }
    }

    /// Index of the code of dimension `j` nearest to `value` (first one on ties, like `argmin`).
    pub fn nearest(&self, j: usize, value: f32) -> usize {
        let codes = &self.codebook.value[j * self.num_codes..(j + 1) * self.num_codes];
        let mut best = 0;
        let mut best_dist = f32::INFINITY;
        for (k, c) in codes.iter().enumerate() {
            let d = (c - value) * (c - value);
            if d < best_dist {
                best_dist = d;
                best = k;
            }
        }
        best
    }
}

impl Bottleneck for VectorQuantized {
    fn forward(&mut self, e: &[f32], n: usize, _mode: LatentMode, _rng: &mut dyn RngCore) -> f64 {
        let l = self.latent_dim;
        assert_eq!(e.len(), n * l, "vq bottleneck expects [n, latent_dim]");
        self.z.clear();
        self.code_index.clear();
        let mut loss = 0.0f64;
        for (i, &v) in e.iter().enumerate() {
            let j = i % l;
            let k = self.nearest(j, v);
            let z = self.codebook.value[j * self.num_codes + k];
            self.code_index.push(k);
            self.z.push(z);
            loss += ((z - v) as f64).powi(2);
        }
        (1.0 + self.beta as f64) * loss / n as f64
    }

    fn latent(&self) -> &[f32] {
        &self.z
    }

    fn backward(&mut self, e: &[f32], grad_z: &[f32], n: usize) -> &[f32] {
        let l = self.latent_dim;
        let scale = 2.0 / n as f32;
        let update_codes = !self.codebook.frozen;
        if update_codes {
            self.codebook.grad.fill(0.0);
        }
        self.grad_e.clear();
        for (i, (&v, &g)) in e.iter().zip(grad_z).enumerate() {
            let j = i % l;
            let z = self.z[i];
            // Straight-through: the decoder's gradient for z is passed to e unchanged; the
            // commitment term pulls e towards sg(z), the codebook term z towards sg(e).
            self.grad_e.push(g + self.beta * scale * (v - z));
            if update_codes {
                self.codebook.grad[j * self.num_codes + self.code_index[i]] += scale * (z - v);
            }
        }
        &self.grad_e
    }

    fn sample(&self, n: usize, rng: &mut dyn RngCore) -> Option<Vec<f32>> {
        let mut out = Vec::with_capacity(n * self.latent_dim);
        for _ in 0..n {
            for j in 0..self.latent_dim {
                let k = rng.random_range(0..self.num_codes);
                out.push(self.codebook.value[j * self.num_codes + k]);
            }
        }
        Some(out)
    }

    fn params_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Param>) {
        out.push(&mut self.codebook);
    }

    fn named_tensors<'a>(&'a self, prefix: &str, out: &mut Vec<NamedTensor<'a>>) {
        out.push(named(prefix, "embeddings", &self.codebook));
    }

    fn named_tensors_mut<'a>(&'a mut self, prefix: &str, out: &mut Vec<NamedTensorMut<'a>>) {
        out.push(named_mut(prefix, "embeddings", &mut self.codebook));
    }

    fn param_count(&self) -> usize {
        self.codebook.len()
    }
}
