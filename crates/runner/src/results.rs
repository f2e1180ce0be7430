//! The study's results as the tables, figures and report see them: every job's cached
//! result, read back (nothing is recomputed here), and `results.json`, the one file with
//! every number.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::experiment::Experiment;
use crate::findings::Finding;
use ae_eval::clustering::ClusteringScores;
use ae_eval::roc::RocCurve;
use ae_eval::tasks::{AnomalyResult, LatentStructure, ProbeResult};

use crate::job_result::JobResult;
use crate::jobs::baselines::RandomEncoder;
use crate::jobs::interpolation::Interpolation;
use crate::jobs::linear_probe::LinearProbe;
use crate::jobs::quality::{ClassifierResult, InterpolationQuality, SampleQuality};
use crate::jobs::reconstruction::Reconstruction;
use crate::jobs::samples::Samples;
use crate::jobs::train::TrainResult;
use crate::metadata::RunMetadata;
use crate::metrics::Metric;
use crate::plan::{Cache, Job, Plan, Task, FORMAT_VERSION};

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
    pub dead_units: Option<ae_eval::tasks::DeadUnits>,
}

impl VariantResults {
    /// Puts `result`, of `job` of `plan`, in its place (a training run or latent structure of
    /// an anomaly model other than the primary held-out class's has none).
    fn file(&mut self, plan: &Plan, job: &Job, result: JobResult, primary: u8) {
        // Which training run a job reads: `None` for the general model, else its held-out
        // class.
        let held_out = |job: &Job| match &job.task {
            Task::Train { run } => run.exclude_digit,
            _ => None,
        };
        match result {
            JobResult::Train(result) => match held_out(job) {
                None => self.train_general = Some(result),
                Some(d) if d == primary => self.train_anomaly = Some(result),
                Some(_) => {}
            },
            JobResult::LatentStructure(result) => {
                match job.deps.first().and_then(|&d| held_out(&plan.jobs[d])) {
                    None => self.latent_general = Some(result),
                    Some(d) if d == primary => self.latent_anomaly = Some(result),
                    Some(_) => {}
                }
            }
            JobResult::Reconstruction(result) => self.reconstruction = Some(result),
            JobResult::Samples(result) => self.samples = Some(result),
            JobResult::Interpolation(result) => self.interpolation = Some(result),
            JobResult::AnomalyRoc(result) => {
                if let Task::AnomalyRoc { digit, .. } = &job.task {
                    if let Some(slot) = self.held_out.iter_mut().find(|(d, _)| d == digit) {
                        slot.1 = Some(result);
                    }
                }
            }
            JobResult::LinearProbe(result) => self.probe = Some(result),
            JobResult::SampleQuality(result) => self.sample_quality = Some(result.quality),
            JobResult::InterpolationQuality(result) => {
                self.interpolation_quality = Some(result.quality);
            }
            JobResult::DeadUnits(result) => self.dead_units = Some(result),
            // The study's and each seed's own results are filed by the loader.
            JobResult::Classifier(_) | JobResult::RandomEncoder(_) | JobResult::Supervised(_) => {}
        }
    }

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
    /// The resolved experiment.
    pub experiment: Experiment,
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
    /// Reads the current result of every job of `plan` from `cache` (stale or missing
    /// results are `None`).
    ///
    /// # Errors
    /// If a result stored under its job's current key does not read as its job's type: that
    /// is a bug or a damaged file, never a silent gap.
    pub fn load(experiment: &Experiment, plan: &Plan, cache: &Cache) -> Result<Self> {
        let primary = experiment.anomaly.primary_digit();
        let mut seeds: Vec<SeedResults> = plan
            .seeds
            .iter()
            .map(|&seed| SeedResults {
                seed,
                variants: plan
                    .variants
                    .iter()
                    .map(|v| VariantResults {
                        variant: v.clone(),
                        held_out: experiment
                            .anomaly
                            .digits
                            .iter()
                            .filter(|d| experiment.anomaly.digits_for(seed).contains(d))
                            .map(|&d| (d, None))
                            .collect(),
                        ..VariantResults::default()
                    })
                    .collect(),
                random_encoder: None,
                supervised: None,
            })
            .collect();
        let mut jobs = Vec::with_capacity(plan.jobs.len());
        let mut classifier = None;
        for job in &plan.jobs {
            let cached = cache.load::<serde_json::Value>(job)?;
            let path = cache.result_path(job);
            jobs.push(JobTiming {
                job: job.name.clone(),
                key: job.key.clone(),
                file: path
                    .strip_prefix(&cache.store)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned(),
                seconds: cached.as_ref().map(|c| c.seconds),
            });
            let Some(cached) = cached else { continue };
            let result = JobResult::from_stored(&job.task, cached.result)
                .with_context(|| format!("reading the cached result of {}", job.name))?;
            let result = match result {
                // The study's one classifier belongs to no seed.
                JobResult::Classifier(result) => {
                    classifier = Some(result);
                    continue;
                }
                result => result,
            };
            let seed = seeds
                .iter_mut()
                .find(|s| s.seed == job.seed)
                .expect("the plan's seeds");
            let variant = job
                .variant()
                .and_then(|name| seed.variants.iter_mut().find(|v| v.variant == name));
            match (result, variant) {
                (JobResult::RandomEncoder(result), _) => seed.random_encoder = Some(result),
                (JobResult::Supervised(result), _) => seed.supervised = Some(result),
                (result, Some(v)) => v.file(plan, job, result, primary),
                (_, None) => {}
            }
        }
        Ok(Self {
            experiment: experiment.clone(),
            variants: plan.variants.clone(),
            seeds,
            jobs,
            classifier,
        })
    }

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
pub struct ResultsJson<'a> {
    /// [`FORMAT_VERSION`] of the results.
    pub format_version: u32,
    /// The resolved experiment.
    pub experiment: &'a Experiment,
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

/// Writes `results.json` into `out`.
pub fn write_results_json(
    results: &StudyResults,
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
        experiment: &results.experiment,
        metadata,
        seeds,
        classifier: results.classifier.as_ref(),
        findings,
        jobs: &results.jobs,
    };
    crate::run::write_json(&out.join("results.json"), &json)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::jobs::reconstruction::Reconstruction;
    use crate::pixels::Pixels;

    /// A study of seeds 1, 2, ... whose only results are the reconstruction BCEs
    /// `bce[variant][seed]`.
    pub(crate) fn with_bce(bce: &[(&str, &[f64])]) -> StudyResults {
        let n = bce[0].1.len();
        let seeds: Vec<String> = (1..=n).map(|s| s.to_string()).collect();
        let mut experiment: Experiment = toml::from_str(&format!(
            "dataset = \"mnist\"\nseeds = [{}]\n[training]\nepochs = 1\n",
            seeds.join(", ")
        ))
        .unwrap();
        experiment.resolve().unwrap();
        let seeds = (0..n)
            .map(|s| SeedResults {
                seed: s as u64 + 1,
                variants: bce
                    .iter()
                    .map(|(name, values)| VariantResults {
                        variant: name.to_string(),
                        reconstruction: Some(Reconstruction {
                            mean_bce: values[s],
                            mean_bce_mean_latent: None,
                            originals: Pixels::from_unit(&[], 32),
                            reconstructions: Pixels::from_unit(&[], 32),
                        }),
                        ..VariantResults::default()
                    })
                    .collect(),
                random_encoder: None,
                supervised: None,
            })
            .collect();
        StudyResults {
            experiment,
            variants: bce.iter().map(|(n, _)| n.to_string()).collect(),
            seeds,
            jobs: Vec::new(),
            classifier: None,
        }
    }

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
