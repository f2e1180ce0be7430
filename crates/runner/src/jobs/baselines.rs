//! The probe's baseline rows: `random_encoder` (the reference's "trained from scratch") and
//! `supervised` (encoder and linear layer trained end to end).

use ae_eval::tasks::{EvalBatchNorm, ProbeConfig, ProbeData};
use rand::RngCore;

use serde::{Deserialize, Serialize};

use super::linear_probe::ProbeOutcome;

/// Result of the `random_encoder` job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomEncoder {
    /// The reference's protocol.
    pub reference: ProbeOutcome,
}

/// The reference's random-feature baseline (BatchNorm of the unoptimised encoder in
/// training mode while the linear layer learns, running statistics for evaluation).
pub fn random_encoder(
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> RandomEncoder {
    RandomEncoder {
        reference: ae_eval::tasks::random_encoder(
            data,
            EvalBatchNorm::RunningStatistics,
            config,
            rng,
        )
        .into(),
    }
}

/// The supervised baseline on the same 550 labelled images.
pub fn supervised(
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> ProbeOutcome {
    ae_eval::tasks::supervised(data, config, rng).into()
}
