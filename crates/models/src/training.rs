//! The training loop: seeded shuffles, Adam, the variant's schedule, per-epoch losses.

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::autoencoder::Losses;
use crate::bottleneck::LatentMode;
use crate::model::{ModelError, TrainableModel};

/// How a run is trained (SPEC "Training": batch 256, 60 epochs, Adam 1e-3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingConfig {
    /// Total epochs (split over the stages of a greedy schedule).
    pub epochs: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 60,
            batch_size: 256,
            learning_rate: 1e-3,
        }
    }
}

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

/// Number of epochs of each stage: even split, remainder to the last (the reference's
/// `_get_epochs_per_layer`).
pub fn epochs_per_stage(epochs: usize, stages: usize) -> Vec<usize> {
    let mut per = vec![epochs / stages; stages];
    per[stages - 1] += epochs % stages;
    per
}

/// The 1-based stage epoch `epoch` (1-based) of `epochs` belongs to under
/// [`epochs_per_stage`]; epochs past the end belong to the last stage.
pub fn stage_of_epoch(epoch: usize, epochs: usize, stages: usize) -> usize {
    let mut end = 0;
    for (i, n) in epochs_per_stage(epochs, stages).into_iter().enumerate() {
        end += n;
        if epoch <= end {
            return i + 1;
        }
    }
    stages
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_split_evenly_with_remainder_last() {
        assert_eq!(epochs_per_stage(60, 3), vec![20, 20, 20]);
        assert_eq!(epochs_per_stage(10, 3), vec![3, 3, 4]);
        assert_eq!(epochs_per_stage(5, 1), vec![5]);
    }

    #[test]
    fn epochs_map_to_their_stage() {
        // 10 epochs over 3 stages: 3, 3, 4 -> epochs 1-3 stage 1, 4-6 stage 2, 7-10 stage 3
        let stages: Vec<usize> = (1..=11).map(|e| stage_of_epoch(e, 10, 3)).collect();
        assert_eq!(stages, [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]);
        assert_eq!(stage_of_epoch(1, 1, 1), 1);
    }
}
