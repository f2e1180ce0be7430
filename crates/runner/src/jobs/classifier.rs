//! The instrument job: the reference classifier of the study's dataset, trained on its own
//! split's 55,000 training images with its own fixed seed (the same classifier for every
//! seed of the study), checkpointed in the store like a training run
//! (`<checkpoints>/instrument/classifier.<key prefix>/`), and scored on the test images.

use std::path::Path;
use std::time::Instant;

use ae_data::{Dataset, LabelledImages};
use ae_eval::confidence::{class_histogram, confidences, entropy_nats, mean, predictions};
use ae_eval::frechet::{frechet_distance, Gaussian};
use ae_eval::instrument::{train_instrument, untrained, InstrumentConfig};
use ae_eval::tasks::{accuracy, NUM_CLASSES};
use ae_models::classifier::Classifier;
use anyhow::{ensure, Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::JobContext;
use crate::plan::Job;
use crate::run::{self, CHECKPOINT_FILE, RECORD_FILE};
use ae_results::quality::ClassifierResult;

/// Everything that determines the classifier and its result (the job's settings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierSettings {
    /// Dataset name.
    pub dataset: String,
    /// Seed of its split permutation and of every random draw of its training.
    pub seed: u64,
    /// Train on only the first N images of the training split (smoke profiles).
    pub train_subset: Option<usize>,
    /// Score on only the first N test images (the evaluation's test images).
    pub test_subset: Option<usize>,
    /// Architecture and training.
    pub config: InstrumentConfig,
}

/// What the classifier's directory records beside its weights, written last.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClassifierRecord {
    /// The settings it was trained with.
    pub settings: ClassifierSettings,
    /// Its scores.
    pub result: ClassifierResult,
    /// [`ae_models::ENGINE_VERSION`] of the engine that trained it.
    pub engine_version: u32,
    /// Fingerprint of the dataset's files it trained on.
    pub data: String,
}

/// Whether `dir` holds a classifier trained with `settings` by this engine on the data of
/// fingerprint `data`: a readable record (written last) and the weights.
pub fn finished(dir: &Path, settings: &ClassifierSettings, data: &str) -> bool {
    dir.join(CHECKPOINT_FILE).is_file()
        && run::read_json::<ClassifierRecord>(&dir.join(RECORD_FILE)).is_ok_and(|record| {
            &record.settings == settings
                && record.engine_version == ae_models::ENGINE_VERSION
                && record.data == data
        })
}

/// The trained classifier of `settings` in `dir`.
///
/// # Errors
/// If its weights cannot be read or do not fit the architecture.
pub fn load(dir: &Path, settings: &ClassifierSettings) -> Result<Classifier> {
    // The initial draw is overwritten by the saved tensors.
    let mut classifier = untrained(&settings.config, &mut ChaCha8Rng::seed_from_u64(0));
    classifier
        .load(&dir.join(CHECKPOINT_FILE))
        .with_context(|| format!("loading the classifier in {}", dir.display()))?;
    Ok(classifier)
}

/// Trains the classifier of `settings` into its directory and scores it, unless (without
/// `--retrain`) the directory already holds it, e.g. when only the job's cached result was
/// lost.
///
/// # Errors
/// If the training split is empty, or a file cannot be written.
pub fn run(
    ctx: &JobContext<'_>,
    job: &Job,
    settings: &ClassifierSettings,
) -> Result<ClassifierResult> {
    let dir = ctx.cache.model_dir(job);
    if !ctx.retrain && finished(&dir, settings, &ctx.cache.data) {
        let record: ClassifierRecord = run::read_json(&dir.join(RECORD_FILE))?;
        return Ok(record.result);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // A stale record must not vouch for the weights that are about to be replaced.
    let _ = std::fs::remove_file(dir.join(RECORD_FILE));
    let dataset = &ctx.data.dataset;
    let train = training_images(settings, dataset);
    ensure!(!train.is_empty(), "the classifier has no training images");
    let start = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let (classifier, train_losses) = train_instrument(&train, &settings.config, &mut rng);
    let train_seconds = start.elapsed().as_secs_f64();
    let result = score(
        &classifier,
        &ctx.data.test,
        &train,
        settings,
        train_losses,
        train_seconds,
    )?;
    let checkpoint = dir.join(CHECKPOINT_FILE);
    classifier.save(&checkpoint)?;
    std::fs::File::open(&checkpoint)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", checkpoint.display()))?;
    let record = ClassifierRecord {
        settings: settings.clone(),
        result: result.clone(),
        engine_version: ae_models::ENGINE_VERSION,
        data: dataset.fingerprint.clone(),
    };
    run::write_json(&dir.join(RECORD_FILE), &record)?;
    Ok(result)
}

/// The classifier's training images: its seed's training split (55,000 images), or the first
/// `train_subset` of it.
fn training_images(settings: &ClassifierSettings, dataset: &Dataset) -> LabelledImages {
    let split = ae_data::split(dataset.train.len(), settings.seed);
    let n = settings.train_subset.unwrap_or(usize::MAX);
    let indices: Vec<usize> = split.train.iter().copied().take(n).collect();
    dataset.train.select(&indices)
}

/// Accuracy, confidence and class entropy on the test images, and the Fréchet distance
/// between their features and those of the first as many training images (all of them if
/// there are fewer): the floor.
fn score(
    classifier: &Classifier,
    test: &LabelledImages,
    train: &LabelledImages,
    settings: &ClassifierSettings,
    train_losses: Vec<f64>,
    train_seconds: f64,
) -> Result<ClassifierResult> {
    let n = test.len().min(train.len());
    ensure!(
        n >= 2,
        "the Fréchet floor needs at least two test and two training images"
    );
    let dim = classifier.feature_dim();
    let test_features = classifier.features(&test.images.pixels);
    let logits = classifier.logits_of_features(&test_features);
    let train_features = classifier.features(&train.images.take_first(n).pixels);
    let floor = frechet_distance(
        &Gaussian::fit(&test_features, dim),
        &Gaussian::fit(&train_features, dim),
    );
    let counts = class_histogram(&predictions(&logits, NUM_CLASSES), NUM_CLASSES);
    Ok(ClassifierResult {
        test_accuracy: accuracy(&logits, &test.labels, NUM_CLASSES),
        frechet_floor: floor,
        test_confidence: mean(&confidences(&logits, NUM_CLASSES)),
        test_class_entropy: entropy_nats(&counts),
        test_images: test.len(),
        train_images: train.len(),
        seed: settings.seed,
        architecture: settings.config.describe(),
        train_losses,
        train_seconds,
    })
}
