//! The latent code as the variants describe it: which bottleneck forms it ([`BottleneckKind`],
//! as data), how a stochastic one is read outside training ([`LatentMode`]), and what a
//! model can do with it ([`Capabilities`]). Both backends build from these descriptions.

use serde::{Deserialize, Serialize};

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

    /// What a model with this bottleneck can do: the VAE family and vq sample from a
    /// prior; only the VAE family's latent is stochastic.
    pub fn capabilities(&self) -> Capabilities {
        match self {
            Self::Identity | Self::Sparse { .. } => Capabilities {
                can_sample: false,
                stochastic_latent: false,
            },
            Self::Variational { .. } => Capabilities {
                can_sample: true,
                stochastic_latent: true,
            },
            Self::VectorQuantized { .. } => Capabilities {
                can_sample: true,
                stochastic_latent: false,
            },
        }
    }

    /// Name of the bottleneck's loss term, if it has one.
    pub fn loss_name(&self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Sparse { .. } => Some("sparsity_kl"),
            Self::Variational { .. } => Some("kl"),
            Self::VectorQuantized { .. } => Some("codebook_commitment"),
        }
    }
}

/// What a model can do beyond encoding and decoding, decided once from its description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// It can draw latent codes from a prior ([`crate::Model::sample_latents`] returns `Some`).
    pub can_sample: bool,
    /// Its latent code is drawn afresh on every call in [`LatentMode::Sampled`] (the VAE
    /// family); [`LatentMode::Mean`] then gives a different, deterministic code.
    pub stochastic_latent: bool,
}

impl Capabilities {
    /// Encodes and decodes only: no prior, a deterministic latent.
    pub const NONE: Self = Self {
        can_sample: false,
        stochastic_latent: false,
    };

    /// Samples from a prior; a deterministic latent.
    pub const SAMPLES: Self = Self {
        can_sample: true,
        stochastic_latent: false,
    };

    /// Whether latent codes formed in `mode` differ between calls.
    pub fn is_stochastic(&self, mode: LatentMode) -> bool {
        self.stochastic_latent && mode == LatentMode::Sampled
    }
}
