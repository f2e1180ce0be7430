//! The model interface: what the trainer, the downstream tasks and the runner may ask of a
//! trained or training autoencoder, whatever backend computes it.
//!
//! [`Model`] is inference (all `&self`, one row per sample in and out) plus save and load;
//! [`TrainableModel`] adds the training step, with the schedule and the optimizers owned by
//! the model. Capabilities (can it sample, is its latent stochastic) are decided once, in
//! [`Capabilities`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::checkpoint::CheckpointError;
use crate::config::TrainingConfig;
use crate::kernels::loss::{bce_per_image, sigmoid};
use crate::latent::{Capabilities, LatentMode};
use crate::variant::Variant;

/// Which implementation computes a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The hand-written engine with fused forward and backward passes.
    Fused,
    /// candle-nn with automatic differentiation.
    Autograd,
}

impl Backend {
    /// Every backend, in the order `--help` lists them.
    pub const ALL: [Backend; 2] = [Backend::Fused, Backend::Autograd];

    /// The name used on the command line, in experiment files and cache keys.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fused => "fused",
            Self::Autograd => "autograd",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown backend name.
#[derive(Debug, thiserror::Error)]
#[error("unknown backend `{0}`; known backends: fused, autograd")]
pub struct UnknownBackend(pub String);

impl FromStr for Backend {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownBackend(s.to_string()))
    }
}

/// Rows per chunk on the inference paths: large enough for efficient matrix products,
/// small enough to keep memory flat whatever the data size.
pub const INFERENCE_CHUNK: usize = 2048;

/// The two parts of the training objective, each averaged over the batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Losses {
    /// BCE summed over pixels, averaged over images.
    pub recon: f64,
    /// The bottleneck's loss.
    pub bottleneck: f64,
}

impl Losses {
    /// `recon + bottleneck`.
    pub fn total(&self) -> f64 {
        self.recon + self.bottleneck
    }
}

/// The loss terms of one training step, each averaged over the batch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LossTerms {
    /// Reconstruction BCE, summed over pixels.
    pub recon: f64,
    /// The other terms of the autoencoder's objective, by name (a sparsity KL, a VAE's KL,
    /// vq's codebook and commitment terms, a penalty); added to `recon` in the total.
    pub regularizers: Vec<(String, f64)>,
    /// Terms of other objectives the step optimised (a discriminator's loss), by name; not
    /// part of the total.
    pub auxiliary: Vec<(String, f64)>,
}

impl LossTerms {
    /// The objective: `recon` plus every regulariser.
    pub fn total(&self) -> f64 {
        self.recon + self.regularizer_sum()
    }

    /// The two-part summary the epoch records keep: reconstruction and the sum of the
    /// regularisers.
    pub fn losses(&self) -> Losses {
        Losses {
            recon: self.recon,
            bottleneck: self.regularizer_sum(),
        }
    }

    fn regularizer_sum(&self) -> f64 {
        // A fold from +0.0, not `sum()` (which starts from -0.0): no regulariser reads 0.
        self.regularizers.iter().fold(0.0, |acc, (_, v)| acc + v)
    }

    /// The first term (reconstruction, regulariser or auxiliary) that is NaN or infinite.
    pub fn first_non_finite(&self) -> Option<(&str, f64)> {
        std::iter::once(("reconstruction", self.recon))
            .chain(self.regularizers.iter().map(|(k, v)| (k.as_str(), *v)))
            .chain(self.auxiliary.iter().map(|(k, v)| (k.as_str(), *v)))
            .find(|(_, v)| !v.is_finite())
    }
}

/// Why a model could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The variant has no implementation in the chosen backend.
    #[error("variant `{variant}` has no {backend} implementation")]
    Unavailable {
        /// The variant's name.
        variant: String,
        /// The backend asked for.
        backend: Backend,
    },
    /// Inputs of the wrong size.
    #[error("{what}: {len} values are not a whole number of rows of {width}")]
    Shape {
        /// Which input.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The row width the model needs.
        width: usize,
    },
    /// A family variant lacks a setting its family reads (it was not validated).
    #[error("variant `{variant}` has no setting `{setting}`")]
    MissingSetting {
        /// The variant's name.
        variant: String,
        /// The setting.
        setting: String,
    },
    /// The variant is not one the backend can build (see [`Variant::validate`]).
    #[error("invalid variant: {0}")]
    InvalidVariant(String),
    /// A checkpoint could not be read or written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The tensor library failed (device errors, for instance).
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Checks that `values` holds whole rows of `width`, naming the input otherwise.
pub fn check_rows(what: &'static str, values: &[f32], width: usize) -> Result<usize, ModelError> {
    if width == 0 || !values.len().is_multiple_of(width) {
        return Err(ModelError::Shape {
            what,
            len: values.len(),
            width,
        });
    }
    Ok(values.len() / width)
}

/// A trained autoencoder, for inference, saving and loading. Every array is one row per
/// sample (`[n, width]`, row-major); every random draw comes from the `rng` passed in.
pub trait Model: Send + std::fmt::Debug {
    /// The variant it was built from.
    fn variant(&self) -> &Variant;

    /// The backend computing it.
    fn backend(&self) -> Backend;

    /// Size of the latent code `z`.
    fn latent_dim(&self) -> usize;

    /// Pixels per image.
    fn input_dim(&self) -> usize;

    /// Size of the encoder's output `e` (twice the latent size for the VAE family).
    fn encoded_dim(&self) -> usize;

    /// What it can do.
    fn capabilities(&self) -> Capabilities;

    /// Trainable scalars of encoder and decoder (SPEC's parameter counts; bottleneck
    /// parameters such as the vq codebook are not included).
    fn network_param_count(&self) -> usize;

    /// Encoder outputs `e` (before the bottleneck) in eval mode, `[n, encoded_dim]`.
    fn encode(&self, x: &[f32]) -> Result<Vec<f32>, ModelError>;

    /// Latent codes `z` of encoder outputs `e`, `[n, latent_dim]`: sampled or the mean for
    /// a stochastic latent, the bottleneck's deterministic code otherwise.
    fn bottleneck(
        &self,
        e: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError>;

    /// Decoder logits of latent codes in eval mode, `[n, input_dim]`.
    fn decode_logits(&self, z: &[f32]) -> Result<Vec<f32>, ModelError>;

    /// `n` latent codes from the prior, `[n, latent_dim]`, or `None` if the model has none
    /// (see [`Capabilities::can_sample`]).
    fn sample_latents(
        &self,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Option<Vec<f32>>, ModelError>;

    /// Losses in eval mode (no input noise, BatchNorm on running statistics), averaged over
    /// every row of `x`: the validation loss.
    fn evaluate(
        &self,
        x: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Losses, ModelError>;

    /// Writes every tensor (parameters and BatchNorm buffers) to a safetensors file, keys
    /// named after the layers (`encoder.0.linear.weight`, `encoder.0.bn.running_mean`).
    fn save(&self, path: &Path) -> Result<(), CheckpointError>;

    /// Overwrites every tensor from a file written by [`Model::save`] (of either backend)
    /// for the same variant and latent size.
    fn load(&mut self, path: &Path) -> Result<(), CheckpointError>;

    /// Decoded images (probabilities) of latent codes, in eval mode.
    fn decode(&self, z: &[f32]) -> Result<Vec<f32>, ModelError> {
        let mut out = self.decode_logits(z)?;
        out.iter_mut().for_each(|v| *v = sigmoid(*v));
        Ok(out)
    }

    /// Latent codes of images: [`Model::encode`] then [`Model::bottleneck`].
    fn latent_codes(
        &self,
        x: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        let e = self.encode(x)?;
        self.bottleneck(&e, mode, rng)
    }

    /// Per-image reconstruction BCE (summed over pixels) in eval mode: the reconstruction
    /// metric and the anomaly score.
    fn reconstruction_errors(
        &self,
        x: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        let width = self.input_dim();
        let rows = check_rows("images", x, width)?;
        let mut out = Vec::with_capacity(rows);
        for chunk in x.chunks(INFERENCE_CHUNK * width) {
            let z = self.latent_codes(chunk, mode, rng)?;
            let logits = self.decode_logits(&z)?;
            out.extend(bce_per_image(&logits, chunk, width));
        }
        Ok(out)
    }

    /// Reconstructions (probabilities) of images in eval mode.
    fn reconstruct(
        &self,
        x: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        let z = self.latent_codes(x, mode, rng)?;
        self.decode(&z)
    }
}

/// A model that can be trained: the trainer loops over epochs and shuffled batches and
/// calls these; the model owns its schedule (stages, frozen layers) and its optimizers.
pub trait TrainableModel: Model {
    /// Prepares epoch `epoch` (1-based) of a run configured by `config`: enters the stage of
    /// the schedule this epoch belongs to, with fresh optimizers whenever a stage begins.
    /// Returns the 1-based stage.
    fn begin_epoch(&mut self, epoch: usize, config: &TrainingConfig) -> Result<usize, ModelError>;

    /// One optimisation step on the batch `x` (one image per row): training-mode forward
    /// pass (input noise, batch statistics), loss, gradients and every optimizer's update.
    /// Without a preceding [`TrainableModel::begin_epoch`] it trains the whole network with
    /// the default optimizer settings.
    fn train_step(&mut self, x: &[f32], rng: &mut dyn RngCore) -> Result<LossTerms, ModelError>;

    /// Leaves training: every layer active and trainable, optimizer state dropped.
    fn end_training(&mut self);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_regularizers_but_not_auxiliary_terms() {
        let terms = LossTerms {
            recon: 10.0,
            regularizers: vec![("kl".into(), 1.5), ("penalty".into(), 0.25)],
            auxiliary: vec![("discriminator".into(), 7.0)],
        };
        assert_eq!(terms.total(), 11.75);
        assert_eq!(
            terms.losses(),
            Losses {
                recon: 10.0,
                bottleneck: 1.75
            }
        );
        assert_eq!(terms.first_non_finite(), None);
        let bad = LossTerms {
            auxiliary: vec![("discriminator".into(), f64::NAN)],
            ..terms
        };
        assert_eq!(bad.first_non_finite().map(|t| t.0), Some("discriminator"));
    }

    #[test]
    fn only_a_stochastic_latent_in_sampled_mode_is_stochastic() {
        let vae = Capabilities {
            can_sample: true,
            stochastic_latent: true,
        };
        assert!(vae.is_stochastic(LatentMode::Sampled));
        assert!(!vae.is_stochastic(LatentMode::Mean));
        let vq = Capabilities {
            can_sample: true,
            stochastic_latent: false,
        };
        assert!(!vq.is_stochastic(LatentMode::Sampled));
    }

    #[test]
    fn ragged_inputs_are_rejected_with_their_name() {
        assert_eq!(check_rows("images", &[0.0; 6], 3).unwrap(), 2);
        let err = check_rows("images", &[0.0; 7], 3).unwrap_err().to_string();
        assert!(err.contains("images") && err.contains('7'), "{err}");
    }
}
