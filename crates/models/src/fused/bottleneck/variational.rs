//! The variational bottleneck of the VAE family.

use rand::RngCore;
use rand_distr::{Distribution, StandardNormal};

use super::{Bottleneck, LatentMode};
use crate::kernels::noise::standard_normal_prior;

/// `(mu, log_sigma) = split(e)`, `z = mu + exp(log_sigma) * eps`, loss
/// `beta * mean_batch(0.5 * sum_j(exp(2 log_sigma) + mu^2 - 1 - 2 log_sigma))`.
#[derive(Debug)]
pub struct Variational {
    latent_dim: usize,
    beta: f32,
    z: Vec<f32>,
    eps: Vec<f32>,
    sigma: Vec<f32>,
    grad_e: Vec<f32>,
}

impl Variational {
    /// A variational bottleneck for `latent_dim` latents, KL weight `beta`.
    pub fn new(latent_dim: usize, beta: f32) -> Self {
        Self {
            latent_dim,
            beta,
            z: Vec::new(),
            eps: Vec::new(),
            sigma: Vec::new(),
            grad_e: Vec::new(),
        }
    }
}

/// What the forward pass computes: `z`, the noise, `sigma` and the loss.
struct Forward {
    z: Vec<f32>,
    eps: Vec<f32>,
    sigma: Vec<f32>,
    loss: f64,
}

impl Variational {
    fn compute(&self, e: &[f32], n: usize, mode: LatentMode, rng: &mut dyn RngCore) -> Forward {
        let l = self.latent_dim;
        assert_eq!(
            e.len(),
            n * 2 * l,
            "variational bottleneck expects [2 * latent_dim, n]"
        );
        // Column layout: the first latent_dim rows are mu, the rest log_sigma. The noise is
        // drawn in this order, dimension by dimension.
        let (mu, log_sigma) = e.split_at(l * n);
        let mut out = Forward {
            z: Vec::with_capacity(l * n),
            eps: Vec::with_capacity(l * n),
            sigma: Vec::with_capacity(l * n),
            loss: 0.0,
        };
        let mut kl = 0.0f64;
        for (&mu, &log_sigma) in mu.iter().zip(log_sigma) {
            let sigma = log_sigma.exp();
            let eps = match mode {
                LatentMode::Sampled => StandardNormal.sample(rng),
                LatentMode::Mean => 0.0,
            };
            out.z.push(mu + sigma * eps);
            out.eps.push(eps);
            out.sigma.push(sigma);
            kl += 0.5
                * (sigma as f64 * sigma as f64 + (mu as f64).powi(2)
                    - 1.0
                    - 2.0 * log_sigma as f64);
        }
        out.loss = self.beta as f64 * kl / n as f64;
        out
    }
}

impl Bottleneck for Variational {
    fn forward(&mut self, e: &[f32], n: usize, mode: LatentMode, rng: &mut dyn RngCore) -> f64 {
        let f = self.compute(e, n, mode, rng);
        (self.z, self.eps, self.sigma) = (f.z, f.eps, f.sigma);
        f.loss
    }

    fn infer(
        &self,
        e: &[f32],
        n: usize,
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> (Vec<f32>, f64) {
        let f = self.compute(e, n, mode, rng);
        (f.z, f.loss)
    }

    fn latent(&self) -> &[f32] {
        &self.z
    }

    fn backward(&mut self, e: &[f32], grad_z: &[f32], n: usize) -> &[f32] {
        let k = self.beta / n as f32;
        let mu = &e[..self.latent_dim * n];
        self.grad_e.clear();
        self.grad_e
            .extend(mu.iter().zip(grad_z).map(|(&mu, &g)| g + k * mu));
        self.grad_e.extend(
            grad_z
                .iter()
                .zip(&self.sigma)
                .zip(&self.eps)
                .map(|((&g, &sigma), &eps)| g * sigma * eps + k * (sigma * sigma - 1.0)),
        );
        &self.grad_e
    }

    fn sample(&self, n: usize, rng: &mut dyn RngCore) -> Option<Vec<f32>> {
        Some(standard_normal_prior(n, self.latent_dim, rng))
    }
}
