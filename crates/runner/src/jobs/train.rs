//! Training jobs: one variant at one latent size, checkpointed in the checkpoints directory.

use ae_models::TrainingObserver;
use ae_results::train::{RunSettings, TrainResult};
use anyhow::Result;

use super::JobContext;
use crate::plan::Job;
use crate::run::{self, RunRecord};

/// Summarises a run record.
fn summary(record: &RunRecord) -> TrainResult {
    let last = record.epochs.last();
    TrainResult {
        settings: record.settings.clone(),
        train_seconds: record.train_seconds,
        samples_per_second: record.samples_per_second,
        train_images: record.train_images,
        final_train_loss: last.map_or(f64::NAN, |e| e.train.total()),
        final_validation_loss: last.map_or(f64::NAN, |e| e.validation.total()),
    }
}

/// Trains `settings` into its run directory, unless (without `--retrain`) the directory
/// already holds a finished run with exactly these settings, e.g. when only the job's cached
/// result was lost. A directory without a valid `record.json` is an unfinished run and is
/// trained again from scratch.
pub fn run(
    ctx: &JobContext<'_>,
    job: &Job,
    settings: &RunSettings,
    observer: &mut dyn TrainingObserver,
) -> Result<TrainResult> {
    let dir = ctx.cache.model_dir(job);
    if !ctx.retrain && run::finished(&dir, settings, &ctx.cache.data) {
        let record: RunRecord = run::read_json(&dir.join(run::RECORD_FILE))?;
        return Ok(summary(&record));
    }
    // A stale record must not vouch for the checkpoint that is about to be replaced.
    let _ = std::fs::remove_file(dir.join(run::RECORD_FILE));
    let record = run::train_run(settings, &ctx.data.dataset, &dir, observer)?;
    Ok(summary(&record))
}
