//! The training loop: seeded shuffles, Adam, the variant's schedule, per-epoch losses.

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::autoencoder::{Autoencoder, Losses};
use crate::bottleneck::LatentMode;
use crate::optim::{Adam, AdamConfig};

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
        /// Which loss.
        what: &'static str,
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

/// Trains `model` on the rows of `train` (row-major, `input_dim` wide), validating on
/// `validation` after every epoch. All randomness comes from `rng`. A greedy schedule starts
/// a fresh optimizer at each stage, as the reference does.
pub fn train(
    model: &mut Autoencoder,
    train: &[f32],
    validation: &[f32],
    config: &TrainingConfig,
    rng: &mut dyn RngCore,
    observer: &mut dyn TrainingObserver,
) -> Result<Vec<EpochRecord>, TrainError> {
    let width = model.encoder.in_dim();
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
    let adam_config = AdamConfig {
        lr: config.learning_rate,
        ..AdamConfig::default()
    };
    let batches = rows.div_ceil(config.batch_size);
    let mut order: Vec<usize> = (0..rows).collect();
    let mut batch = Vec::with_capacity(config.batch_size * width);
    let mut records = Vec::with_capacity(config.epochs);
    let mut epoch = 0;
    for (stage_index, stage_epochs) in epochs_per_stage(config.epochs, model.num_stages())
        .into_iter()
        .enumerate()
    {
        let stage = stage_index + 1;
        model.set_stage(stage);
        let mut adam = Adam::new(adam_config);
        for _ in 0..stage_epochs {
            epoch += 1;
            let start = Instant::now();
            order.shuffle(rng);
            let mut sum = Losses::default();
            for (b, indices) in order.chunks(config.batch_size).enumerate() {
                batch.clear();
                for &i in indices {
                    batch.extend_from_slice(&train[i * width..(i + 1) * width]);
                }
                let n = indices.len();
                let losses = model.forward_backward(&batch, n, rng);
                check_finite(&losses, epoch, b + 1)?;
                adam.step(&mut model.params_mut());
                sum.recon += losses.recon * n as f64;
                sum.bottleneck += losses.bottleneck * n as f64;
                observer.on_batch(epoch, b + 1, batches, losses.total());
            }
            let train_losses = Losses {
                recon: sum.recon / rows as f64,
                bottleneck: sum.bottleneck / rows as f64,
            };
            let validation_losses = model.evaluate(validation, LatentMode::Sampled, rng);
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
    }
    model.set_full();
    Ok(records)
}

fn check_finite(losses: &Losses, epoch: usize, batch: usize) -> Result<(), TrainError> {
    for (what, value) in [
        ("reconstruction", losses.recon),
        ("bottleneck", losses.bottleneck),
    ] {
        if !value.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                what,
                value,
                epoch,
                batch,
            });
        }
    }
    Ok(())
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
}
