//! The study's results as the tables, figures and report see them: every job's cached
//! result, read back (nothing is recomputed here), and `results.json`, the one file with
//! every number.

use std::path::Path;

use anyhow::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::experiment::Experiment;
use crate::findings::Finding;
use crate::jobs::anomaly_roc::AnomalyRoc;
use crate::jobs::interpolation::Interpolation;
use crate::jobs::latent_structure::{Clustering, LatentStructure};
use crate::jobs::linear_probe::{LinearProbe, ProbeOutcome};
use crate::jobs::reconstruction::Reconstruction;
use crate::jobs::samples::Samples;
use crate::jobs::train::TrainResult;
use crate::metadata::RunMetadata;
use crate::plan::{train_job_name, Cache, Plan, FORMAT_VERSION};

/// A job of the plan and how long its stored result took to compute.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobTiming {
    /// Job name.
    pub job: String,
    /// Wall time when it was computed, seconds; `None` if it has no current result.
    pub seconds: Option<f64>,
}

/// Every result of one variant (each `None` until its job has run).
#[derive(Clone, Debug, Default)]
pub struct VariantResults {
    /// Variant name.
    pub variant: String,
    /// The general training run.
    pub train_general: Option<TrainResult>,
    /// The anomaly training run.
    pub train_anomaly: Option<TrainResult>,
    /// Task 1.
    pub reconstruction: Option<Reconstruction>,
    /// Task 2 (sampling variants only).
    pub samples: Option<Samples>,
    /// Task 3.
    pub interpolation: Option<Interpolation>,
    /// Task 4, general model.
    pub latent_general: Option<LatentStructure>,
    /// Task 4, anomaly model.
    pub latent_anomaly: Option<LatentStructure>,
    /// Task 5.
    pub anomaly: Option<AnomalyRoc>,
    /// Task 6.
    pub probe: Option<LinearProbe>,
}

/// The whole study's cached results.
#[derive(Clone, Debug)]
pub struct StudyResults {
    /// The resolved experiment.
    pub experiment: Experiment,
    /// One entry per variant, in table order.
    pub variants: Vec<VariantResults>,
    /// The `random_encoder` baseline.
    pub random_encoder: Option<ProbeOutcome>,
    /// The `supervised` baseline.
    pub supervised: Option<ProbeOutcome>,
    /// Every job with its wall time.
    pub jobs: Vec<JobTiming>,
}

impl StudyResults {
    /// Reads the current result of every job of `plan` from `cache` (stale or missing
    /// results are `None`).
    pub fn load(experiment: &Experiment, plan: &Plan, cache: &Cache) -> Self {
        let mut jobs = Vec::new();
        let mut get = |name: String| -> Option<serde_json::Value> {
            let job = plan.job(&name)?;
            let cached = cache.load::<serde_json::Value>(job);
            jobs.push(JobTiming {
                job: name,
                seconds: cached.as_ref().map(|c| c.seconds),
            });
            cached.map(|c| c.result)
        };
        let (general, anomaly) = (experiment.general.latent_dim, experiment.anomaly.latent_dim);
        let mut variants = Vec::new();
        for v in &plan.variants {
            variants.push(VariantResults {
                variant: v.clone(),
                train_general: typed(get(train_job_name(v, general))),
                train_anomaly: typed(get(train_job_name(v, anomaly))),
                reconstruction: typed(get(format!("reconstruction/{v}"))),
                samples: typed(get(format!("samples/{v}"))),
                interpolation: typed(get(format!("interpolation/{v}"))),
                latent_general: typed(get(format!("latent_general/{v}"))),
                latent_anomaly: typed(get(format!("latent_anomaly/{v}"))),
                anomaly: typed(get(format!("anomaly_roc/{v}"))),
                probe: typed(get(format!("linear_probe/{v}"))),
            });
        }
        let random_encoder = typed(get("baseline/random_encoder".into()));
        let supervised = typed(get("baseline/supervised".into()));
        // Order timings as the plan runs them.
        jobs.sort_by_key(|t| plan.jobs.iter().position(|j| j.name == t.job));
        Self {
            experiment: experiment.clone(),
            variants,
            random_encoder,
            supervised,
            jobs,
        }
    }

    /// The results of `variant`.
    pub fn variant(&self, variant: &str) -> Option<&VariantResults> {
        self.variants.iter().find(|v| v.variant == variant)
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
}

fn typed<T: DeserializeOwned>(value: Option<serde_json::Value>) -> Option<T> {
    value.and_then(|v| serde_json::from_value(v).ok())
}

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
    /// Drops every point that lies on the straight segment between its neighbours.
    pub fn of(fpr: &[f64], tpr: &[f64]) -> Self {
        let n = fpr.len().min(tpr.len());
        let mut keep = Vec::with_capacity(n);
        for i in 0..n {
            let interior = i > 0 && i + 1 < n;
            let collinear = interior
                && ((fpr[i - 1] == fpr[i] && fpr[i] == fpr[i + 1])
                    || (tpr[i - 1] == tpr[i] && tpr[i] == tpr[i + 1]));
            if !collinear {
                keep.push(i);
            }
        }
        // Six decimals are far below a pixel of any plot and halve the file.
        let round = |x: f64| (x * 1e6).round() / 1e6;
        Self {
            fpr: keep.iter().map(|&i| round(fpr[i])).collect(),
            tpr: keep.iter().map(|&i| round(tpr[i])).collect(),
        }
    }
}

/// One variant in `results.json`.
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
    /// Task 5.
    pub anomaly: Option<AnomalyJson>,
    /// Task 6.
    pub linear_probe: Option<LinearProbe>,
}

/// Training summaries of a variant.
#[derive(Clone, Debug, Serialize)]
pub struct TrainingJson {
    /// The general run.
    pub general: Option<TrainResult>,
    /// The anomaly run.
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
    pub general: Option<Clustering>,
    /// Anomaly model.
    pub anomaly: Option<Clustering>,
}

/// Task 5 numbers.
#[derive(Clone, Debug, Serialize)]
pub struct AnomalyJson {
    /// The anomalous digit.
    pub digit: u8,
    /// Area under the ROC curve.
    pub auc: f64,
    /// The ROC curve.
    pub roc: RocCorners,
}

/// `results.json`: everything in one file.
#[derive(Clone, Debug, Serialize)]
pub struct ResultsJson<'a> {
    /// [`FORMAT_VERSION`] of the results.
    pub format_version: u32,
    /// The resolved experiment.
    pub experiment: &'a Experiment,
    /// Where and when it ran.
    pub metadata: &'a RunMetadata,
    /// Per variant.
    pub variants: Vec<VariantJson>,
    /// Probe baselines.
    pub baselines: BaselinesJson,
    /// SPEC's qualitative findings, checked.
    pub findings: &'a [Finding],
    /// Per-job wall times.
    pub jobs: &'a [JobTiming],
}

/// The probe's baseline rows.
#[derive(Clone, Debug, Serialize)]
pub struct BaselinesJson {
    /// Random, unoptimised encoder.
    pub random_encoder: Option<ProbeOutcome>,
    /// Trained end to end.
    pub supervised: Option<ProbeOutcome>,
}

/// Writes `results.json` into `out`.
pub fn write_results_json(
    results: &StudyResults,
    metadata: &RunMetadata,
    findings: &[Finding],
    out: &Path,
) -> Result<()> {
    let variants = results
        .variants
        .iter()
        .map(|v| VariantJson {
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
            anomaly: v.anomaly.as_ref().map(|a| AnomalyJson {
                digit: a.digit,
                auc: a.auc,
                roc: RocCorners::of(&a.roc.fpr, &a.roc.tpr),
            }),
            linear_probe: v.probe.clone(),
        })
        .collect();
    let json = ResultsJson {
        format_version: FORMAT_VERSION,
        experiment: &results.experiment,
        metadata,
        variants,
        baselines: BaselinesJson {
            random_encoder: results.random_encoder.clone(),
            supervised: results.supervised.clone(),
        },
        findings,
        jobs: &results.jobs,
    };
    crate::run::write_json(&out.join("results.json"), &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_corners_keep_the_shape() {
        let fpr = [0.0, 0.0, 0.0, 0.5, 1.0, 1.0];
        let tpr = [0.0, 0.5, 1.0, 1.0, 1.0, 1.0];
        let c = RocCorners::of(&fpr, &tpr);
        assert_eq!(c.fpr, [0.0, 0.0, 1.0]);
        assert_eq!(c.tpr, [0.0, 1.0, 1.0]);
    }
}
