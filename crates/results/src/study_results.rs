//! The study's results as the tables, figures and report see them: every job's stored
//! result, read back by the runner's loader (nothing is recomputed here) and filed by
//! seed and variant.

use ae_eval::tasks::{AnomalyResult, DeadUnits, LatentStructure, ProbeResult};
use serde::Serialize;

use crate::images::{Interpolation, Reconstruction, Samples};
use crate::metrics::Metric;
use crate::probe::{LinearProbe, RandomEncoder};
use crate::quality::{ClassifierResult, InterpolationQuality, SampleQuality};
use crate::study::Study;
use crate::train::TrainResult;

/// A job of the plan, where its result is stored and how long it took to compute.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobTiming {
    /// Job name.
    pub job: String,
    /// The job's key.
    pub key: String,
    /// Its result's file, relative to the store.
    pub file: String,
    /// Wall time when it was computed, seconds; `None` if it has no current result.
    pub seconds: Option<f64>,
}

/// Every result of one variant in one seed (each `None` until its job has run).
#[derive(Clone, Debug, Default)]
pub struct VariantResults {
    /// Variant name.
    pub variant: String,
    /// The general training run.
    pub train_general: Option<TrainResult>,
    /// The anomaly training run of the primary held-out digit.
    pub train_anomaly: Option<TrainResult>,
    /// Task 1.
    pub reconstruction: Option<Reconstruction>,
    /// Task 2 (sampling variants only).
    pub samples: Option<Samples>,
    /// Task 3.
    pub interpolation: Option<Interpolation>,
    /// Task 4, general model.
    pub latent_general: Option<LatentStructure>,
    /// Task 4, anomaly model of the primary held-out digit.
    pub latent_anomaly: Option<LatentStructure>,
    /// Task 5 for every held-out digit, in the experiment's order (the primary one included).
    pub held_out: Vec<(u8, Option<AnomalyResult>)>,
    /// Task 6.
    pub probe: Option<LinearProbe>,
    /// Task 2 measured: the general model's samples judged by the classifier (sampling
    /// variants only).
    pub sample_quality: Option<SampleQuality>,
    /// Task 3 measured: the general model's interpolations judged by the classifier.
    pub interpolation_quality: Option<InterpolationQuality>,
    /// The general model's latent units that are 0 on every test image.
    pub dead_units: Option<DeadUnits>,
}

impl VariantResults {
    /// Task 5 for held-out `digit`.
    pub fn anomaly_for(&self, digit: u8) -> Option<&AnomalyResult> {
        self.held_out
            .iter()
            .find(|(d, _)| *d == digit)
            .and_then(|(_, a)| a.as_ref())
    }
}

/// One seed's results: a whole replicate of the study.
#[derive(Clone, Debug)]
pub struct SeedResults {
    /// The seed.
    pub seed: u64,
    /// One entry per variant, in table order.
    pub variants: Vec<VariantResults>,
    /// The `random_encoder` baseline.
    pub random_encoder: Option<RandomEncoder>,
    /// The `supervised` baseline.
    pub supervised: Option<ProbeResult>,
}

impl SeedResults {
    /// The results of `variant`.
    pub fn variant(&self, variant: &str) -> Option<&VariantResults> {
        self.variants.iter().find(|v| v.variant == variant)
    }
}

/// The whole study's cached results.
#[derive(Clone, Debug)]
pub struct StudyResults {
    /// The study they belong to.
    pub study: Study,
    /// Variants in table order.
    pub variants: Vec<String>,
    /// One entry per seed, in the experiment's order.
    pub seeds: Vec<SeedResults>,
    /// Every job with its wall time.
    pub jobs: Vec<JobTiming>,
    /// The instrument classifier behind the quality results (one per study, the same for
    /// every seed).
    pub classifier: Option<ClassifierResult>,
}

impl StudyResults {
    /// The first seed's results: the one whose images the figures show.
    pub fn first(&self) -> &SeedResults {
        &self.seeds[0]
    }

    /// Sum of the wall times of every job with a result, seconds.
    pub fn total_job_seconds(&self) -> f64 {
        self.jobs.iter().filter_map(|j| j.seconds).sum()
    }

    /// Jobs of the plan without a current result.
    pub fn missing_jobs(&self) -> Vec<&str> {
        self.jobs
            .iter()
            .filter(|j| j.seconds.is_none())
            .map(|j| j.job.as_str())
            .collect()
    }

    /// One metric of `variant` in every seed that has it, in seed order.
    pub fn values(&self, variant: &str, metric: Metric) -> Vec<f64> {
        self.seeds
            .iter()
            .filter_map(|s| s.variant(variant).and_then(|v| metric.of(v)))
            .collect()
    }

    /// One metric of the `random_encoder` baseline in every seed that has it, in seed order.
    pub fn random_encoder_values(&self, metric: Metric) -> Vec<f64> {
        self.seeds
            .iter()
            .filter_map(|s| metric.of_random_encoder(s))
            .collect()
    }
}
