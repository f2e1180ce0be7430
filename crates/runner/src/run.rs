//! One training run: its record, and the directory it lives in (its settings are
//! [`RunSettings`], which the plan's training jobs carry).

use std::path::Path;
use std::time::Instant;

use ae_data::{fs::write_atomic, Dataset, Split, INPUT_DIM};
use ae_models::{backend, training, EpochRecord, Model, TrainingObserver};
use ae_results::train::RunSettings;
use anyhow::{Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// File names inside a run directory.
pub const SETTINGS_FILE: &str = "settings.json";
/// The trained weights.
pub const CHECKPOINT_FILE: &str = "model.safetensors";
/// Losses per epoch and wall time, written when training has finished.
pub const RECORD_FILE: &str = "record.json";

/// What a finished run records beside its checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// The settings it ran with.
    pub settings: RunSettings,
    /// Losses of every epoch.
    pub epochs: Vec<EpochRecord>,
    /// Wall time of the training, seconds.
    pub train_seconds: f64,
    /// Training images per second over the whole run.
    pub samples_per_second: f64,
    /// Images in the training split used.
    pub train_images: usize,
    /// [`ae_models::ENGINE_VERSION`] of the engine that trained it (0 in records written
    /// before the version was recorded).
    #[serde(default)]
    pub engine_version: u32,
    /// Fingerprint of the dataset's files it trained on ([`ae_data::fingerprint`]; `None`
    /// in records written before it was recorded, which are never reused by a study).
    #[serde(default)]
    pub data: Option<String>,
}

/// The training and validation images a run's settings select.
pub fn training_data(settings: &RunSettings, dataset: &Dataset) -> (Vec<f32>, Vec<f32>) {
    let split = ae_data::split(dataset.train.len(), settings.seed);
    let mut train_indices = match settings.exclude_digit {
        Some(d) => split.without_digit(&dataset.train.labels, d),
        None => split.train.clone(),
    };
    if let Some(n) = settings.train_subset {
        train_indices.truncate(n);
    }
    let validation = validation_indices(&split, settings.train_subset);
    let train = dataset.train.images.select(&train_indices).pixels;
    let validation = dataset.train.images.select(&validation).pixels;
    (train, validation)
}

/// Number of training images a run's settings select (without copying them).
pub fn training_rows(settings: &RunSettings, dataset: &Dataset) -> usize {
    let split = ae_data::split(dataset.train.len(), settings.seed);
    let rows = match settings.exclude_digit {
        Some(d) => split
            .train
            .iter()
            .filter(|&&i| dataset.train.labels[i] != d)
            .count(),
        None => split.train.len(),
    };
    settings.train_subset.map_or(rows, |n| rows.min(n))
}

fn validation_indices(split: &Split, subset: Option<usize>) -> Vec<usize> {
    // Smoke profiles shrink validation along with training so an epoch stays short.
    match subset {
        Some(n) => split.validation.iter().copied().take(n.max(100)).collect(),
        None => split.validation.clone(),
    }
}

/// Trains one run into `dir`: writes the settings first, then the checkpoint and the record
/// (each atomically), and returns the record.
pub fn train_run(
    settings: &RunSettings,
    dataset: &Dataset,
    dir: &Path,
    observer: &mut dyn TrainingObserver,
) -> Result<RunRecord> {
    settings.validate()?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating run directory {}", dir.display()))?;
    write_json(&dir.join(SETTINGS_FILE), settings)?;
    let (train, validation) = training_data(settings, dataset);
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let mut model = backend::build(
        &settings.variant,
        settings.latent_dim,
        INPUT_DIM,
        settings.backend,
        &mut rng,
    )?;
    let start = Instant::now();
    let epochs = training::train(
        model.as_mut(),
        &train,
        &validation,
        &settings.training,
        &mut rng,
        observer,
    )
    .with_context(|| {
        format!(
            "training {} (latent {})",
            settings.variant.name, settings.latent_dim
        )
    })?;
    let train_seconds = start.elapsed().as_secs_f64();
    let train_images = train.len() / INPUT_DIM;
    let checkpoint_path = dir.join(CHECKPOINT_FILE);
    model.save(&checkpoint_path)?;
    // The record vouches for the checkpoint, so the checkpoint must be on disk first (the
    // record itself is fsynced by `write_atomic`): a power loss can then never leave a record
    // beside a truncated checkpoint.
    std::fs::File::open(&checkpoint_path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", checkpoint_path.display()))?;
    let record = RunRecord {
        settings: settings.clone(),
        epochs,
        train_seconds,
        samples_per_second: (train_images * settings.training.epochs) as f64 / train_seconds,
        train_images,
        engine_version: ae_models::ENGINE_VERSION,
        data: Some(dataset.fingerprint.clone()),
    };
    write_json(&dir.join(RECORD_FILE), &record)?;
    Ok(record)
}

/// Loads the trained model of a run directory, in the backend that trained it.
pub fn load_run(dir: &Path) -> Result<(RunRecord, Box<dyn Model>)> {
    let record: RunRecord = read_json(&dir.join(RECORD_FILE))?;
    let settings = &record.settings;
    let model: Box<dyn Model> = backend::load(
        &settings.variant,
        settings.latent_dim,
        INPUT_DIM,
        settings.backend,
        &dir.join(CHECKPOINT_FILE),
    )
    .with_context(|| format!("loading the model of {}", dir.display()))?;
    Ok((record, model))
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value)?;
    write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))
}

/// Reads JSON, naming the file on error.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

/// Whether `dir` holds a complete training with `run`'s settings by this engine on the data
/// of fingerprint `data`: a readable `record.json` (written last, atomically) and the
/// checkpoint.
pub fn finished(dir: &Path, run: &RunSettings, data: &str) -> bool {
    dir.join(CHECKPOINT_FILE).is_file()
        && read_json::<RunRecord>(&dir.join(RECORD_FILE)).is_ok_and(|record| {
            &record.settings == run
                && record.engine_version == ae_models::ENGINE_VERSION
                && record.data.as_deref() == Some(data)
        })
}
