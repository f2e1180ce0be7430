//! Task 6 jobs: the linear probe on the frozen general model, with the reference's protocol
//! (Adam, early stopping) and the converged one (standardised codes, L-BFGS, L2 chosen on
//! the validation images).

use ae_eval::tasks::{LogisticProbeConfig, ProbeConfig, ProbeData};
use ae_models::{LatentMode, Model};
use ae_results::probe::LinearProbe;
use anyhow::Result;
use rand::RngCore;

/// Trains the reference probe on `model`'s codes, and for a stochastic latent (the VAE
/// family) a second one on the means; then the converged probe on the same two kinds of
/// codes. The reference probes draw from `rng` first, so their outcomes do not depend on the
/// converged ones.
///
/// # Errors
/// If the model fails or a converged fit fails (non-finite codes, no convergence).
pub fn run(
    model: &dyn Model,
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    converged_config: &LogisticProbeConfig,
    rng: &mut dyn RngCore,
) -> Result<LinearProbe> {
    let sampled = ae_eval::tasks::linear_probe(model, data, LatentMode::Sampled, config, rng)?;
    let stochastic = model.capabilities().stochastic_latent;
    let mean_latent = stochastic
        .then(|| ae_eval::tasks::linear_probe(model, data, LatentMode::Mean, config, rng))
        .transpose()?;
    let converged =
        ae_eval::tasks::converged_probe(model, data, LatentMode::Sampled, converged_config, rng)?;
    let converged_mean_latent = stochastic
        .then(|| {
            ae_eval::tasks::converged_probe(model, data, LatentMode::Mean, converged_config, rng)
        })
        .transpose()?;
    Ok(LinearProbe {
        sampled,
        mean_latent,
        converged,
        converged_mean_latent,
    })
}
