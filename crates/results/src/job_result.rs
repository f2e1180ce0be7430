//! What a job computes: one result type per kind of task, in one enum that is stored with its
//! kind (`{"kind": "reconstruction", "mean_bce": ...}`), so a stored result says what it is
//! and the loader files it without reading its job's name.

use ae_eval::tasks::{AnomalyResult, DeadUnits, LatentStructure, ProbeResult};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::images::{Interpolation, Reconstruction, Samples};
use crate::probe::{LinearProbe, RandomEncoder};
use crate::quality::{ClassifierResult, InterpolationQualityJob, SampleQualityJob};
use crate::train::TrainResult;

/// Version of the job results' format and of the computation behind them; bump it when a
/// change anywhere should invalidate every cached result. (Changes of the training engine's
/// arithmetic bump [`ae_models::ENGINE_VERSION`] instead.) Part of every job's key, and
/// written into `results.json`.
pub const FORMAT_VERSION: u32 = 3;

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
    /// Reads a stored result of kind `kind` (the `kind` its job's task stores, which the
    /// runner's plan names). Results stored before the kind was written (the committed
    /// studies' older files) carry no `kind` and are read as `kind`.
    ///
    /// # Errors
    /// If the value does not read as a result of `kind`, or names another kind.
    pub fn from_stored(kind: &str, mut value: serde_json::Value) -> Result<Self> {
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

    #[test]
    fn a_result_is_stored_with_its_kind_and_read_back_only_as_that_kind() {
        let result = JobResult::DeadUnits(DeadUnits {
            latent_dim: 2,
            dead: 1,
            zero_fraction: vec![1.0, 0.25],
        });
        let value = serde_json::to_value(&result).unwrap();
        assert_eq!(value["kind"], "dead_units");
        assert_eq!(value["dead"], 1);
        let JobResult::DeadUnits(back) =
            JobResult::from_stored("dead_units", value.clone()).unwrap()
        else {
            panic!("read back as another kind");
        };
        assert_eq!(back.zero_fraction, [1.0, 0.25]);
        // The same value read as another kind is an error naming both kinds.
        let err = JobResult::from_stored("reconstruction", value).unwrap_err();
        assert!(
            format!("{err:#}").contains("`dead_units` result where a `reconstruction`"),
            "{err:#}"
        );
        // Untagged (the older format) reads as the kind asked for.
        let old = serde_json::json!({"latent_dim": 1, "dead": 0, "zero_fraction": [0.5]});
        assert!(matches!(
            JobResult::from_stored("dead_units", old),
            Ok(JobResult::DeadUnits(DeadUnits { latent_dim: 1, .. }))
        ));
    }
}
