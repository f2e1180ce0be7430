//! What task 6 computes: the linear probe on a variant's codes, and its `random_encoder`
//! baseline (the `supervised` baseline is a plain [`ProbeResult`]).

use ae_eval::tasks::{LogisticProbeResult, ProbeResult};
use serde::{Deserialize, Serialize};

/// Result of a linear-probe job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearProbe {
    /// The reference's protocol with the reference's sampled latent.
    pub sampled: ProbeResult,
    /// The reference's protocol with the deterministic mean latent (VAE family only).
    pub mean_latent: Option<ProbeResult>,
    /// The converged probe on the sampled latent (eps drawn once per image).
    pub converged: LogisticProbeResult,
    /// The converged probe on the mean latent (VAE family only).
    pub converged_mean_latent: Option<LogisticProbeResult>,
}

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
