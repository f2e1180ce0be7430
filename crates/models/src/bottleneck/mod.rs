//! Bottlenecks: what turns the encoder output `e` into the latent code `z`, with their
//! extra loss terms (SPEC, "The nine configurations").

mod identity;
mod sparse;
mod variational;
mod vector_quantized;

use rand::RngCore;
use serde::{Deserialize, Serialize};

pub use identity::Identity;
pub use sparse::Sparse;
pub use variational::Variational;
pub use vector_quantized::VectorQuantized;

use crate::param::{NamedTensor, NamedTensorMut, Param};

/// How the variational bottleneck forms `z` outside training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatentMode {
    /// `z = mu + sigma * eps` with fresh noise, as the reference does even at evaluation.
    Sampled,
    /// `z = mu`, the deterministic alternative.
    Mean,
}

/// A bottleneck's description, as data: which kind and its hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BottleneckKind {
    /// `z = e`, no loss.
    Identity,
    /// `z = sigmoid(e)`, loss `beta * sum_j KL(sparsity || mean_batch z_j)`.
    Sparse {
        /// Target mean activation `p`.
        sparsity: f32,
        /// Weight of the KL term.
        beta: f32,
    },
    /// `z = mu + exp(log_sigma) * eps`, loss `beta * KL(q || N(0, I))`.
    Variational {
        /// Weight of the KL term.
        beta: f32,
    },
    /// Per-dimension scalar codebooks with straight-through gradients.
    VectorQuantized {
        /// Codes per latent dimension (K).
        num_codes: usize,
        /// Weight of the commitment term.
        beta: f32,
    },
}

impl BottleneckKind {
    /// Width of the encoder output for a latent of size `latent_dim` (the VAE encoder emits
    /// `mu` and `log_sigma`).
    pub fn encoded_dim(&self, latent_dim: usize) -> usize {
        match self {
            Self::Variational { .. } => 2 * latent_dim,
            _ => latent_dim,
        }
    }

    /// Builds the bottleneck, drawing any parameters from `rng`.
    pub fn build(&self, latent_dim: usize, rng: &mut dyn RngCore) -> Box<dyn Bottleneck> {
        match *self {
            Self::Identity => Box::new(Identity::default()),
            Self::Sparse { sparsity, beta } => Box::new(Sparse::new(sparsity, beta)),
            Self::Variational { beta } => Box::new(Variational::new(latent_dim, beta)),
            Self::VectorQuantized { num_codes, beta } => {
                Box::new(VectorQuantized::new(latent_dim, num_codes, beta, rng))
            }
        }
    }
}

/// A bottleneck's forward and backward pass.
pub trait Bottleneck: Send + std::fmt::Debug {
    /// Computes `z` from `e` (`[n, e.len() / n]`), keeps it (see [`Bottleneck::latent`]) and
    /// returns the bottleneck loss (already averaged over the batch where SPEC says so).
    fn forward(&mut self, e: &[f32], n: usize, mode: LatentMode, rng: &mut dyn RngCore) -> f64;

    /// The latent code of the last forward pass, `[n, latent_dim]`.
    fn latent(&self) -> &[f32];

    /// Gradient of the total loss with respect to `e`, given its gradient with respect to
    /// `z` from the decoder; adds the bottleneck loss's own gradient and writes parameter
    /// gradients.
    fn backward(&mut self, e: &[f32], grad_z: &[f32], n: usize) -> &[f32];

    /// Draws `n` latent codes from the prior, for variants that can sample.
    fn sample(&self, _n: usize, _rng: &mut dyn RngCore) -> Option<Vec<f32>> {
        None
    }

    /// Trainable parameters.
    fn params_mut<'a>(&'a mut self, _out: &mut Vec<&'a mut Param>) {}

    /// Tensors to save under `prefix`.
    fn named_tensors<'a>(&'a self, _prefix: &str, _out: &mut Vec<NamedTensor<'a>>) {}

    /// Mutable views of the same tensors.
    fn named_tensors_mut<'a>(&'a mut self, _prefix: &str, _out: &mut Vec<NamedTensorMut<'a>>) {}

    /// Number of trainable scalars.
    fn param_count(&self) -> usize {
        0
    }
}
