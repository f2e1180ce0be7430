//! The training loop: seeded shuffles, Adam, the variant's schedule, per-epoch losses.

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::TrainingConfig;
use crate::latent::LatentMode;
use crate::model::{Losses, ModelError, TrainableModel};

/// Losses of one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// 1-based schedule stage.
    pub stage: usize,
    /// Mean training losses over the epoch's batches (weighted by batch size).
    pub train: Losses,
    /// Validation losses after the epoch, in eval mode.
    pub validation: Losses,
    /// Wall time of the epoch including validation.
    pub seconds: f64,
}

/// Why training stopped.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A loss became NaN or infinite.
    #[error("training diverged: {what} loss is {value} at epoch {epoch}, batch {batch}")]
    NonFiniteLoss {
        /// Which loss term.
        what: String,
        /// Its value.
        value: f64,
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch.
        batch: usize,
    },
    /// The configuration cannot be trained.
    #[error("invalid training configuration: {0}")]
    InvalidConfig(String),
    /// The model failed to compute a step or the validation loss.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Receives progress while training runs (the runner draws progress bars with it).
pub trait TrainingObserver {
    /// After each batch.
    fn on_batch(&mut self, _epoch: usize, _batch: usize, _batches: usize, _loss: f64) {}
    /// After each epoch.
    fn on_epoch(&mut self, _record: &EpochRecord) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl TrainingObserver for Silent {}

/// Trains `model` on the rows of `train` (row-major, `input_dim` wide), validating on
/// `validation` after every epoch. All randomness comes from `rng`: each epoch shuffles the
/// rows, then the model takes one step per batch (its schedule and optimizers are its own,
/// see [`TrainableModel`]).
pub fn train(
    model: &mut dyn TrainableModel,
    train: &[f32],
    validation: &[f32],
    config: &TrainingConfig,
    rng: &mut dyn RngCore,
    observer: &mut dyn TrainingObserver,
) -> Result<Vec<EpochRecord>, TrainError> {
    let width = model.input_dim();
    let rows = train.len() / width;
    if config.batch_size == 0 || config.epochs == 0 || rows == 0 {
        return Err(TrainError::InvalidConfig(format!(
            "epochs {} and batch_size {} must be positive and the training set non-empty ({rows} rows)",
            config.epochs, config.batch_size
        )));
    }
    if !(config.learning_rate.is_finite() && config.learning_rate > 0.0) {
        return Err(TrainError::InvalidConfig(format!(
            "learning_rate {} must be positive",
            config.learning_rate
        )));
    }
    let records = run_epochs(model, train, validation, config, rng, observer);
    model.end_training();
    records
}

fn run_epochs(
    model: &mut dyn TrainableModel,
    train: &[f32],
    validation: &[f32],
    config: &TrainingConfig,
    rng: &mut dyn RngCore,
    observer: &mut dyn TrainingObserver,
) -> Result<Vec<EpochRecord>, TrainError> {
    let width = model.input_dim();
    let rows = train.len() / width;
    let batches = rows.div_ceil(config.batch_size);
    let mut order: Vec<usize> = (0..rows).collect();
    let mut batch = Vec::with_capacity(config.batch_size * width);
    let mut records = Vec::with_capacity(config.epochs);
    for epoch in 1..=config.epochs {
        let stage = model.begin_epoch(epoch, config)?;
        let start = Instant::now();
        order.shuffle(rng);
        let mut sum = Losses::default();
        for (b, indices) in order.chunks(config.batch_size).enumerate() {
            batch.clear();
            for &i in indices {
                batch.extend_from_slice(&train[i * width..(i + 1) * width]);
            }
            let n = indices.len();
            let terms = model.train_step(&batch, rng)?;
            if let Some((what, value)) = terms.first_non_finite() {
                return Err(TrainError::NonFiniteLoss {
                    what: what.to_string(),
                    value,
                    epoch,
                    batch: b + 1,
                });
            }
            let losses = terms.losses();
            sum.recon += losses.recon * n as f64;
            sum.bottleneck += losses.bottleneck * n as f64;
            observer.on_batch(epoch, b + 1, batches, losses.total());
        }
        let train_losses = Losses {
            recon: sum.recon / rows as f64,
            bottleneck: sum.bottleneck / rows as f64,
        };
        let validation_losses = model.evaluate(validation, LatentMode::Sampled, rng)?;
        let record = EpochRecord {
            epoch,
            stage,
            train: train_losses,
            validation: validation_losses,
            seconds: start.elapsed().as_secs_f64(),
        };
        observer.on_epoch(&record);
        records.push(record);
    }
    Ok(records)
}
