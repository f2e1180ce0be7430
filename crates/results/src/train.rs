//! A training run's result as the tables read it, and the settings that determine the run
//! (which are also its job's settings in the plan).

use ae_data::DatasetName;
use ae_models::{Backend, TrainingConfig, Variant};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Everything that determines a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// The variant, in full (so a run directory says exactly what was trained).
    pub variant: Variant,
    /// The implementation that trains it (part of the cache key: a run of one backend is
    /// never taken for the other's).
    pub backend: Backend,
    /// Latent size (20 for the general runs, 2 for the anomaly runs).
    pub latent_dim: usize,
    /// Digit left out of the training split, for the anomaly runs.
    pub exclude_digit: Option<u8>,
    /// Dataset name.
    pub dataset: String,
    /// Seed of the split permutation and of every random draw of the run.
    pub seed: u64,
    /// Use only the first N images of the training split (smoke profiles).
    pub train_subset: Option<usize>,
    /// Epochs, batch size, learning rate.
    pub training: TrainingConfig,
}

impl RunSettings {
    /// Settings for `variant` with the study's defaults (its default backend: fused where the
    /// variant has it).
    pub fn new(variant: Variant, latent_dim: usize, dataset: DatasetName, seed: u64) -> Self {
        Self {
            backend: Backend::default_for(&variant),
            variant,
            latent_dim,
            exclude_digit: None,
            dataset: dataset.to_string(),
            seed,
            train_subset: None,
            training: TrainingConfig::default(),
        }
    }

    /// Checks every field, naming the one that is wrong.
    pub fn validate(&self) -> Result<()> {
        self.variant.validate().map_err(anyhow::Error::msg)?;
        if !self.backend.supports(&self.variant) {
            bail!(
                "backend: `{}` does not implement variant `{}` (use `autograd`)",
                self.backend,
                self.variant.name
            );
        }
        if self.latent_dim == 0 || self.latent_dim > 512 {
            bail!("latent: must be between 1 and 512, got {}", self.latent_dim);
        }
        if let Some(d) = self.exclude_digit {
            if d > 9 {
                bail!("exclude_digit: must be a digit 0-9, got {d}");
            }
        }
        if self.training.epochs == 0 {
            bail!("epochs: must be at least 1");
        }
        if self.training.batch_size == 0 {
            bail!("batch_size: must be at least 1");
        }
        if self.train_subset == Some(0) {
            bail!("train_subset: must be at least 1");
        }
        Ok(())
    }
}

/// What the tables need from a finished training run (the full record stays in the run
/// directory's `record.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    /// The run's settings.
    pub settings: RunSettings,
    /// Wall time of the training, seconds.
    pub train_seconds: f64,
    /// Training images per second over the whole run.
    pub samples_per_second: f64,
    /// Images in the training split used.
    pub train_images: usize,
    /// Training loss (reconstruction + bottleneck) of the last epoch.
    pub final_train_loss: f64,
    /// Validation loss of the last epoch.
    pub final_validation_loss: f64,
}
