//! The probe's baseline rows: `random_encoder` (the reference's "trained from scratch") and
//! `supervised` (encoder and linear layer trained end to end).

use ae_eval::tasks::{EvalBatchNorm, LogisticProbeConfig, ProbeConfig, ProbeData, ProbeResult};
use ae_results::probe::RandomEncoder;
use anyhow::Result;
use rand::RngCore;

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
