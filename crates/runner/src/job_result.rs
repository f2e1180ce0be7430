//! What a job computes: one result type per kind of task, in one enum that is stored with its
//! kind (`{"kind": "reconstruction", "mean_bce": ...}`), so a stored result says what it is
//! and the loader files it without reading its job's name.

use ae_eval::tasks::{AnomalyResult, DeadUnits, LatentStructure, ProbeResult};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::jobs::baselines::RandomEncoder;
use crate::jobs::interpolation::Interpolation;
use crate::jobs::interpolation_quality::InterpolationQualityJob;
use crate::jobs::linear_probe::LinearProbe;
use crate::jobs::quality::ClassifierResult;
use crate::jobs::reconstruction::Reconstruction;
use crate::jobs::sample_quality::SampleQualityJob;
use crate::jobs::samples::Samples;
use crate::jobs::train::TrainResult;
use crate::plan::Task;

/// The result of one job, by the kind of its task.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobResult {
    /// An autoencoder's training run.
    Train(TrainResult),
    /// The instrument classifier's training run.
    Classifier(ClassifierResult),
    /// Task 1.
    Reconstruction(Reconstruction),
    /// Task 2.
    Samples(Samples),
    /// Task 3.
    Interpolation(Interpolation),
    /// Task 4, of the general or an anomaly model.
    LatentStructure(LatentStructure),
    /// Task 5 for one held-out class.
    AnomalyRoc(AnomalyResult),
    /// Task 6.
    LinearProbe(LinearProbe),
    /// The probe's random-encoder baseline.
    RandomEncoder(RandomEncoder),
    /// The probe's supervised baseline.
    Supervised(ProbeResult),
    /// Task 2 judged by the classifier.
    SampleQuality(SampleQualityJob),
    /// Latent units that are 0 on every test image.
    DeadUnits(DeadUnits),
    /// Task 3 judged by the classifier.
    InterpolationQuality(InterpolationQualityJob),
}

impl JobResult {
    /// The `kind` a result of `task` is stored with.
    pub fn kind_of(task: &Task) -> &'static str {
        match task {
            Task::Train { .. } => "train",
            Task::Classifier { .. } => "classifier",
            Task::Reconstruction { .. } => "reconstruction",
            Task::Samples { .. } => "samples",
            Task::Interpolation { .. } => "interpolation",
            Task::LatentStructure { .. } => "latent_structure",
            Task::AnomalyRoc { .. } => "anomaly_roc",
            Task::LinearProbe { .. } => "linear_probe",
            Task::RandomEncoder { .. } => "random_encoder",
            Task::Supervised { .. } => "supervised",
            Task::SampleQuality { .. } => "sample_quality",
            Task::DeadUnits { .. } => "dead_units",
            Task::InterpolationQuality { .. } => "interpolation_quality",
        }
    }

    /// Reads the stored result of a job of `task`. Results stored before the kind was
    /// written (the committed studies' older files) carry no `kind` and are read as the type
    /// `task` computes.
    ///
    /// # Errors
    /// If the value does not read as a result of `task`'s kind, or names another kind.
    pub fn from_stored(task: &Task, mut value: serde_json::Value) -> Result<Self> {
        let kind = Self::kind_of(task);
        match value.get("kind") {
            Some(serde_json::Value::String(stored)) if stored != kind => {
                bail!("a `{stored}` result where a `{kind}` result belongs")
            }
            Some(_) => {}
            None => {
                let Some(fields) = value.as_object_mut() else {
                    bail!("a `{kind}` result that is no JSON object");
                };
                fields.insert("kind".into(), kind.into());
            }
        }
        Ok(serde_json::from_value(value)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Experiment;
    use crate::plan::{Cache, Plan};

    fn plan() -> Plan {
        crate::plan::test_plan(&["vanilla"])
    }

    #[test]
    fn a_result_is_stored_with_its_kind_and_read_back_only_as_that_kind() {
        let plan = plan();
        let job = plan.job("seed42/dead_units/vanilla").unwrap();
        let result = JobResult::DeadUnits(DeadUnits {
            latent_dim: 2,
            dead: 1,
            zero_fraction: vec![1.0, 0.25],
        });
        let value = serde_json::to_value(&result).unwrap();
        assert_eq!(value["kind"], "dead_units");
        assert_eq!(value["dead"], 1);
        let JobResult::DeadUnits(back) = JobResult::from_stored(&job.task, value.clone()).unwrap()
        else {
            panic!("read back as another kind");
        };
        assert_eq!(back.zero_fraction, [1.0, 0.25]);
        // The same value under a job of another kind is an error naming both kinds.
        let recon = plan.job("seed42/reconstruction/vanilla").unwrap();
        let err = JobResult::from_stored(&recon.task, value).unwrap_err();
        assert!(
            format!("{err:#}").contains("`dead_units` result where a `reconstruction`"),
            "{err:#}"
        );
        // Untagged (the older format) reads by the job's task.
        let old = serde_json::json!({"latent_dim": 1, "dead": 0, "zero_fraction": [0.5]});
        assert!(matches!(
            JobResult::from_stored(&job.task, old),
            Ok(JobResult::DeadUnits(DeadUnits { latent_dim: 1, .. }))
        ));
    }

    #[test]
    fn committed_results_without_a_kind_still_load() {
        // The committed MNIST study's files predate the kind: every one of its jobs' results
        // of the first seed must read as its task's type.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let experiment = Experiment::load(&root.join("experiments/mnist.toml")).unwrap();
        let plan = Plan::new(&experiment, &experiment.variants).unwrap();
        let store = root.join("results/store");
        let cache = Cache::new(&store, &store.join("checkpoints"), &plan);
        let mut read = 0;
        for job in plan.jobs.iter().filter(|j| j.seed == 42) {
            let cached = cache
                .load::<serde_json::Value>(job)
                .unwrap()
                .unwrap_or_else(|| panic!("{} has no committed result", job.name));
            assert!(cached.result.get("kind").is_none(), "{}", job.name);
            JobResult::from_stored(&job.task, cached.result)
                .unwrap_or_else(|e| panic!("{}: {e:#}", job.name));
            read += 1;
        }
        assert!(read > 100, "{read}");
    }
}
