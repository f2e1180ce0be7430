//! The probe's baseline rows: `random_encoder` (the reference's "trained from scratch") and
//! `supervised` (encoder and linear layer trained end to end).

use ae_eval::tasks::{
    EvalBatchNorm, LogisticProbeConfig, LogisticProbeResult, ProbeConfig, ProbeData, ProbeResult,
};
use anyhow::Result;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Result of the `random_encoder` job. The reference outcome's fields sit at the top level
/// of the JSON (flattened), beside `converged`, so the file also reads as a plain
/// [`ProbeResult`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomEncoder {
    /// The reference protocol: BatchNorm of the unoptimised encoder in training mode while
    /// the linear layer learns, running statistics for evaluation.
    #[serde(flatten)]
    pub reference: ProbeResult,
    /// The converged probe on the same random encoder's features (BatchNorm on the training
    /// images' statistics, frozen).
    pub converged: LogisticProbeResult,
}

/// The reference's random-feature baseline and the converged probe on the same randomly
/// initialised encoder: both draw the encoder first from identical copies of `rng`.
///
/// # Errors
/// If the converged fit fails.
pub fn random_encoder<R: RngCore + Clone>(
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    converged_config: &LogisticProbeConfig,
    rng: &mut R,
) -> Result<RandomEncoder> {
    let mut same_encoder = rng.clone();
    let reference =
        ae_eval::tasks::random_encoder(data, EvalBatchNorm::RunningStatistics, config, rng);
    let converged =
        ae_eval::tasks::converged_random_encoder(data, converged_config, &mut same_encoder)?;
    Ok(RandomEncoder {
        reference,
        converged,
    })
}

/// The supervised baseline on the same 550 labelled images.
pub fn supervised(
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> ProbeResult {
    ae_eval::tasks::supervised(data, config, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_encoder_result_reads_back_and_as_a_probe_result() {
        let result = RandomEncoder {
            reference: ProbeResult {
                test_accuracy: 0.4364,
                best_epoch: 2,
                validation_accuracies: vec![0.41, 0.44, 0.43],
            },
            converged: LogisticProbeResult {
                test_accuracy: 0.61,
                validation_accuracy: 0.6,
                l2: 0.01,
                grid: vec![(0.001, 0.58), (0.01, 0.6)],
            },
        };
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["test_accuracy"], 0.4364);
        assert_eq!(json["converged"]["l2"], 0.01);
        assert_eq!(
            serde_json::from_value::<RandomEncoder>(json.clone()).unwrap(),
            result
        );
        assert_eq!(
            serde_json::from_value::<ProbeResult>(json).unwrap(),
            result.reference
        );
    }
}
