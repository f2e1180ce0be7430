//! `results.json`: every number of the study in one file, the cached results reshaped per
//! seed and variant (ROC curves thinned to their corners), with the experiment, the run's
//! metadata, the findings and every job's timing.

use std::path::Path;

use ae_eval::clustering::ClusteringScores;
use ae_eval::roc::RocCurve;
use ae_eval::tasks::ProbeResult;
use ae_results::job_result::FORMAT_VERSION;
use ae_results::probe::{LinearProbe, RandomEncoder};
use ae_results::quality::{ClassifierResult, InterpolationQuality, SampleQuality};
use ae_results::study_results::{JobTiming, StudyResults, VariantResults};
use ae_results::train::TrainResult;
use anyhow::{Context, Result};
use serde::Serialize;

use crate::findings::Finding;
use crate::metadata::RunMetadata;

/// A ROC curve as `results.json` keeps it: the corner points only (scikit-learn's
/// `drop_intermediate`), which draw the same curve with far fewer points, rounded to six
/// decimals. The full curve with thresholds stays in the job's cached result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RocCorners {
    /// False positive rates.
    pub fpr: Vec<f64>,
    /// True positive rates.
    pub tpr: Vec<f64>,
}

impl RocCorners {
    /// The corners of `curve` ([`ae_eval::roc::RocCurve::corners`]), rounded.
    pub fn of(curve: &RocCurve) -> Self {
        let corners = curve.corners();
        // Six decimals are far below a pixel of any plot and halve the file.
        let round = |x: &f64| (x * 1e6).round() / 1e6;
        Self {
            fpr: corners.fpr.iter().map(round).collect(),
            tpr: corners.tpr.iter().map(round).collect(),
        }
    }
}

/// One variant of one seed in `results.json`.
#[derive(Clone, Debug, Serialize)]
pub struct VariantJson {
    /// Variant name.
    pub variant: String,
    /// General and anomaly training runs.
    pub training: TrainingJson,
    /// Task 1: test BCE (sampled; mean latent for VAEs).
    pub reconstruction: Option<ReconstructionJson>,
    /// Task 4: clustering of the general and anomaly codes.
    pub clustering: ClusteringJson,
    /// Task 5, one entry per held-out digit with a result.
    pub anomaly: Vec<AnomalyJson>,
    /// Task 6.
    pub linear_probe: Option<LinearProbe>,
    /// Task 2 measured by the classifier (sampling variants only).
    pub sample_quality: Option<SampleQuality>,
    /// Task 3 measured by the classifier.
    pub interpolation_quality: Option<InterpolationQuality>,
    /// Latent units of the general model that are 0 on every test image.
    pub dead_units: Option<usize>,
}

/// Training summaries of a variant.
#[derive(Clone, Debug, Serialize)]
pub struct TrainingJson {
    /// The general run.
    pub general: Option<TrainResult>,
    /// The anomaly run of the primary held-out digit.
    pub anomaly: Option<TrainResult>,
}

/// Task 1 numbers.
#[derive(Clone, Debug, Serialize)]
pub struct ReconstructionJson {
    /// Mean test BCE, sampled latent.
    pub mean_bce: f64,
    /// Mean test BCE, mean latent (VAE family).
    pub mean_bce_mean_latent: Option<f64>,
}

/// Task 4 numbers.
#[derive(Clone, Debug, Serialize)]
pub struct ClusteringJson {
    /// General model.
    pub general: Option<ClusteringScores>,
    /// Anomaly model.
    pub anomaly: Option<ClusteringScores>,
}

/// Task 5 numbers of one held-out digit.
#[derive(Clone, Debug, Serialize)]
pub struct AnomalyJson {
    /// The anomalous digit.
    pub digit: u8,
    /// Area under the ROC curve of the per-image BCE.
    pub auc: f64,
    /// The ROC curve.
    pub roc: RocCorners,
    /// Area under the ROC curve of the reference's published (pre-fix) score.
    pub published_auc: f64,
    /// The published score's ROC curve.
    pub published_roc: RocCorners,
}

/// One seed in `results.json`.
#[derive(Clone, Debug, Serialize)]
pub struct SeedJson {
    /// The seed.
    pub seed: u64,
    /// Per variant.
    pub variants: Vec<VariantJson>,
    /// Probe baselines.
    pub baselines: BaselinesJson,
}

/// `results.json`: everything in one file.
#[derive(Clone, Debug, Serialize)]
pub struct ResultsJson<'a, E> {
    /// [`FORMAT_VERSION`] of the results.
    pub format_version: u32,
    /// The resolved experiment, as the runner read it.
    pub experiment: &'a E,
    /// Where and when it ran.
    pub metadata: &'a RunMetadata,
    /// Per seed.
    pub seeds: Vec<SeedJson>,
    /// The instrument classifier behind every seed's sample and interpolation quality.
    pub classifier: Option<&'a ClassifierResult>,
    /// The reference's qualitative findings, checked over the seeds.
    pub findings: &'a [Finding],
    /// Per-job wall times.
    pub jobs: &'a [JobTiming],
}

/// The probe's baseline rows.
#[derive(Clone, Debug, Serialize)]
pub struct BaselinesJson {
    /// Random, unoptimised encoder.
    pub random_encoder: Option<RandomEncoder>,
    /// Trained end to end.
    pub supervised: Option<ProbeResult>,
}

fn variant_json(v: &VariantResults) -> VariantJson {
    VariantJson {
        variant: v.variant.clone(),
        training: TrainingJson {
            general: v.train_general.clone(),
            anomaly: v.train_anomaly.clone(),
        },
        reconstruction: v.reconstruction.as_ref().map(|r| ReconstructionJson {
            mean_bce: r.mean_bce,
            mean_bce_mean_latent: r.mean_bce_mean_latent,
        }),
        clustering: ClusteringJson {
            general: v.latent_general.as_ref().map(|l| l.clustering),
            anomaly: v.latent_anomaly.as_ref().map(|l| l.clustering),
        },
        anomaly: v
            .held_out
            .iter()
            .filter_map(|(_, a)| a.as_ref())
            .map(|a| AnomalyJson {
                digit: a.digit,
                auc: a.auc,
                roc: RocCorners::of(&a.roc),
                published_auc: a.published_auc,
                published_roc: RocCorners::of(&a.published_roc),
            })
            .collect(),
        linear_probe: v.probe.clone(),
        sample_quality: v.sample_quality.clone(),
        interpolation_quality: v.interpolation_quality.clone(),
        dead_units: v.dead_units.as_ref().map(|d| d.dead),
    }
}

/// Writes `results.json` into `out`, with `experiment` (the experiment file as resolved) as
/// its `experiment`. The experiment comes in as whatever serialises it (the runner's
/// `Experiment`): the file records every key of it, variant definitions and task lists
/// included, while the analysis itself reads only the [`ae_results::study::Study`].
pub fn write_results_json<E: Serialize>(
    results: &StudyResults,
    experiment: &E,
    metadata: &RunMetadata,
    findings: &[Finding],
    out: &Path,
) -> Result<()> {
    let seeds = results
        .seeds
        .iter()
        .map(|s| SeedJson {
            seed: s.seed,
            variants: s.variants.iter().map(variant_json).collect(),
            baselines: BaselinesJson {
                random_encoder: s.random_encoder.clone(),
                supervised: s.supervised.clone(),
            },
        })
        .collect();
    let json = ResultsJson {
        format_version: FORMAT_VERSION,
        experiment,
        metadata,
        seeds,
        classifier: results.classifier.as_ref(),
        findings,
        jobs: &results.jobs,
    };
    let path = out.join("results.json");
    ae_data::fs::write_atomic(&path, &serde_json::to_vec_pretty(&json)?)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_corners_are_the_curves_corners_rounded() {
        // The corners themselves are `RocCurve::corners`'s (tested in ae-eval); here, the
        // rounding to six decimals.
        let kink = RocCurve {
            fpr: vec![0.0, 0.123_456_789, 1.0],
            tpr: vec![0.0, 0.5, 1.0],
            thresholds: vec![f64::INFINITY, 2.0, 1.0],
        };
        assert_eq!(RocCorners::of(&kink).fpr, [0.0, 0.123_457, 1.0]);
    }
}
