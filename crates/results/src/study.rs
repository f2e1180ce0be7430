//! What the analysis knows of a study: its name, dataset, seeds and settings. The settings
//! are the experiment file's sections as plain data (the runner's `Experiment` holds them,
//! its plan puts [`ProbeSection`] into the probe jobs' settings, and the tables and report
//! describe the study with them); reading, resolving and validating the file stay with the
//! runner, which hands the analysis a [`Study`].

use ae_data::DatasetName;
use serde::{Deserialize, Serialize};

/// The study the results belong to, as the tables, findings, figures and report describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct Study {
    /// Name of the study.
    pub name: String,
    /// Dataset name as the experiment file gives it.
    pub dataset: String,
    /// The seeds, in the experiment's order.
    pub seeds: Vec<u64>,
    /// The variants whose model can sample from a prior (the sample-quality findings compare
    /// only these), in table order.
    pub samplers: Vec<String>,
    /// The variants built by an autoencoder family rather than from the reference's parts
    /// (the report sets the findings over the nine alone beside those over every
    /// contestant), in table order.
    pub families: Vec<String>,
    /// How every autoencoder was trained.
    pub training: TrainingSection,
    /// The general runs.
    pub general: GeneralSection,
    /// The anomaly runs and their held-out classes.
    pub anomaly: AnomalySection,
    /// The evaluation sets and figures.
    pub evaluation: EvaluationSection,
    /// The linear probe.
    pub probe: ProbeSection,
    /// The instrument classifier and the quality jobs.
    pub quality: QualitySection,
}

impl Study {
    /// The dataset, parsed.
    ///
    /// # Errors
    /// If the name is no known dataset's (an experiment file validates it when it loads).
    pub fn dataset_name(&self) -> Result<DatasetName, ae_data::DataError> {
        self.dataset.parse()
    }
}

/// `[training]`: optimisation settings shared by every run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSection {
    /// Epochs per run (the reference: 60).
    pub epochs: usize,
    /// Images per batch (the reference: 256).
    #[serde(default = "reference_batch_size")]
    pub batch_size: usize,
    /// Adam's learning rate (the reference: 1e-3).
    #[serde(default = "reference_learning_rate")]
    pub learning_rate: f32,
    /// Train on only the first N images of the training split (smoke profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_subset: Option<usize>,
    /// `fused` or `autograd` for every variant; by default each variant's own default
    /// (fused where it has it). A variant the backend lacks is an error when the file loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<ae_models::Backend>,
}

fn reference_batch_size() -> usize {
    256
}

fn reference_learning_rate() -> f32 {
    1e-3
}

/// `[general]`: the latent size of the general runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralSection {
    /// Latent size (the reference: 20).
    pub latent_dim: usize,
}

impl GeneralSection {
    /// The reference's general runs: latent 20.
    pub fn reference() -> Self {
        Self { latent_dim: 20 }
    }
}

/// `[anomaly]`: the latent size of the anomaly runs and the digits they never see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalySection {
    /// Latent size (the reference: 2).
    pub latent_dim: usize,
    /// One held-out digit; the same as `digits = [digit]`. Resolved into `digits` when the
    /// file is loaded, so it is never written back.
    #[serde(default, skip_serializing)]
    pub digit: Option<u8>,
    /// Held-out digits (leave-one-class-out): one anomaly model per digit, variant and seed,
    /// each trained without that digit and scored on detecting it (the reference: `[1]`).
    #[serde(default)]
    pub digits: Vec<u8>,
    /// Seeds that hold out every one of `digits`; the other seeds hold out the primary digit
    /// only. Empty (the default): every seed holds out every digit. Lets a study run the
    /// leave-one-class-out sweep on one seed and the main anomaly task on all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub every_digit_seeds: Vec<u64>,
}

impl AnomalySection {
    /// The reference's anomaly runs: latent 2, digit 1 held out.
    pub fn reference() -> Self {
        Self {
            latent_dim: 2,
            digit: None,
            digits: vec![REFERENCE_ANOMALOUS_DIGIT],
            every_digit_seeds: Vec::new(),
        }
    }

    /// Whether `seed` holds out every one of `digits` (and not the primary digit only).
    pub fn holds_out_every_digit(&self, seed: u64) -> bool {
        self.every_digit_seeds.is_empty() || self.every_digit_seeds.contains(&seed)
    }

    /// The digits `seed` holds out, the primary digit first.
    pub fn digits_for(&self, seed: u64) -> Vec<u8> {
        let primary = self.primary_digit();
        let mut digits = vec![primary];
        if self.holds_out_every_digit(seed) {
            digits.extend(self.digits.iter().copied().filter(|&d| d != primary));
        }
        digits
    }

    /// The held-out digit of the main anomaly table, ROC and latent figures: the reference's
    /// digit 1 where the study holds it out, otherwise the first of `digits`.
    pub fn primary_digit(&self) -> u8 {
        if self.digits.contains(&REFERENCE_ANOMALOUS_DIGIT) {
            REFERENCE_ANOMALOUS_DIGIT
        } else {
            self.digits[0]
        }
    }
}

/// The digit the reference holds out (label 1 for every dataset).
pub const REFERENCE_ANOMALOUS_DIGIT: u8 = 1;

/// `[evaluation]`: which images the downstream tasks use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluationSection {
    /// Evaluate on only the first N test images (smoke profiles); all by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    /// Score the probe on only the first N validation images (smoke profiles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_subset: Option<usize>,
    /// How latent codes of more than two dimensions are put in the plane: `umap` (the
    /// reference's method, on all test codes) or `tsne`.
    pub reduction: ae_eval::reduction::Reduction,
    /// At most this many test codes go into each t-SNE (the rest are not plotted); UMAP
    /// always uses every test code.
    pub tsne_points: usize,
    /// Test image the interpolation starts from (the reference: #0, a 7).
    pub interpolation_from: usize,
    /// Test image the interpolation ends at (the reference: #1, a 2).
    pub interpolation_to: usize,
    /// Frames of the interpolation, both ends included (the reference: 130).
    pub interpolation_steps: usize,
    /// Images in each sample grid (the reference: 16).
    pub samples: usize,
}

impl Default for EvaluationSection {
    fn default() -> Self {
        Self {
            test_subset: None,
            validation_subset: None,
            reduction: ae_eval::reduction::Reduction::default(),
            tsne_points: ae_eval::reduction::SUBSET_POINTS,
            interpolation_from: 0,
            interpolation_to: 1,
            interpolation_steps: ae_eval::tasks::INTERPOLATION_STEPS,
            samples: ae_eval::tasks::SAMPLE_COUNT,
        }
    }
}

/// `[probe]`: the reference probe's optimiser and early stopping (docs/reference-study.md,
/// task 6), and the converged probe's L2 grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeSection {
    /// Images per batch (the reference: 32).
    pub batch_size: usize,
    /// Upper bound on the epochs (the reference: 20).
    pub max_epochs: usize,
    /// Epochs without improvement before stopping (the reference: 3).
    pub patience: usize,
    /// Adam's learning rate (the reference: 1e-3).
    pub learning_rate: f32,
    /// L2 strengths the converged probe chooses from on the validation images (scaled to the
    /// mean cross-entropy; see `ae_eval::tasks::logistic_probe`).
    pub l2_grid: Vec<f64>,
}

impl Default for ProbeSection {
    fn default() -> Self {
        let c = ae_eval::tasks::ProbeConfig::default();
        Self {
            batch_size: c.batch_size,
            max_epochs: c.max_epochs,
            patience: c.patience,
            learning_rate: c.learning_rate,
            l2_grid: ae_eval::tasks::LogisticProbeConfig::default().l2_grid,
        }
    }
}

/// `[quality]`: the reference classifier (an instrument trained once per study with its own
/// fixed seed, the same for every seed of the study) and how much the sample-quality and
/// interpolation-quality jobs ask of each general model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualitySection {
    /// Seed of the classifier: its split permutation, initial weights, shuffles and shifts.
    /// Fixed, and independent of the study's seeds.
    pub classifier_seed: u64,
    /// Passes of the classifier over its training images.
    pub classifier_epochs: usize,
    /// Train the classifier on only the first N images of its training split (smoke
    /// profiles); all 55,000 by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier_train_subset: Option<usize>,
    /// Prior draws decoded and judged by each sample-quality job.
    pub sample_draws: usize,
    /// Pairs of test images of different classes interpolated by each interpolation-quality
    /// job (each in `evaluation.interpolation_steps` frames).
    pub interpolation_pairs: usize,
}

impl Default for QualitySection {
    fn default() -> Self {
        Self {
            classifier_seed: 0,
            classifier_epochs: ae_eval::instrument::InstrumentConfig::default().epochs,
            classifier_train_subset: None,
            sample_draws: 10_000,
            interpolation_pairs: 100,
        }
    }
}

impl QualitySection {
    /// The classifier's architecture and training.
    pub fn instrument(&self) -> ae_eval::instrument::InstrumentConfig {
        ae_eval::instrument::InstrumentConfig {
            epochs: self.classifier_epochs,
            ..ae_eval::instrument::InstrumentConfig::default()
        }
    }
}

impl ProbeSection {
    /// The converged probe's configuration.
    pub fn converged_config(&self) -> ae_eval::tasks::LogisticProbeConfig {
        ae_eval::tasks::LogisticProbeConfig {
            l2_grid: self.l2_grid.clone(),
            ..ae_eval::tasks::LogisticProbeConfig::default()
        }
    }

    /// The eval crate's configuration of the reference probe.
    pub fn config(&self) -> ae_eval::tasks::ProbeConfig {
        ae_eval::tasks::ProbeConfig {
            batch_size: self.batch_size,
            max_epochs: self.max_epochs,
            patience: self.patience,
            learning_rate: self.learning_rate,
        }
    }
}
