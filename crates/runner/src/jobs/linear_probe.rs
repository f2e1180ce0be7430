//! Task 6 jobs: the linear probe on the frozen general model, with the reference's protocol
//! (Adam, early stopping) and the converged one (standardised codes, L-BFGS, L2 chosen on
//! the validation images).

use ae_eval::tasks::{LogisticProbeConfig, LogisticProbeResult, ProbeConfig, ProbeData};
use ae_models::{Autoencoder, BottleneckKind, LatentMode};
use anyhow::Result;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// One probe training's outcome (the eval crate's `ProbeResult`, readable back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeOutcome {
    /// Test accuracy of the best-validation epoch.
    pub test_accuracy: f64,
    /// 1-based best epoch.
    pub best_epoch: usize,
    /// Validation accuracy of every epoch that ran.
    pub validation_accuracies: Vec<f64>,
}

impl From<ae_eval::tasks::ProbeResult> for ProbeOutcome {
    fn from(r: ae_eval::tasks::ProbeResult) -> Self {
        Self {
            test_accuracy: r.test_accuracy,
            best_epoch: r.best_epoch,
            validation_accuracies: r.validation_accuracies,
        }
    }
}

/// Result of a linear-probe job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearProbe {
    /// The reference's protocol with the reference's sampled latent.
    pub sampled: ProbeOutcome,
    /// The reference's protocol with the deterministic mean latent (VAE family only).
    pub mean_latent: Option<ProbeOutcome>,
    /// The converged probe on the sampled latent (eps drawn once per image).
    pub converged: LogisticProbeResult,
    /// The converged probe on the mean latent (VAE family only).
    pub converged_mean_latent: Option<LogisticProbeResult>,
}

/// Trains the reference probe on `model`'s codes, and for the VAE family a second one on
/// the means; then the converged probe on the same two kinds of codes. The reference
/// probes draw from `rng` first, so their outcomes do not depend on the converged ones.
///
/// # Errors
/// If a converged fit fails (non-finite codes, no convergence).
pub fn run(
    model: &mut Autoencoder,
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    converged_config: &LogisticProbeConfig,
    rng: &mut dyn RngCore,
) -> Result<LinearProbe> {
    let sampled = ae_eval::tasks::linear_probe(model, data, LatentMode::Sampled, config, rng);
    let variational = matches!(model.variant.bottleneck, BottleneckKind::Variational { .. });
    let mean_latent = variational
        .then(|| ae_eval::tasks::linear_probe(model, data, LatentMode::Mean, config, rng).into());
    let converged =
        ae_eval::tasks::converged_probe(model, data, LatentMode::Sampled, converged_config, rng)?;
    let converged_mean_latent = variational
        .then(|| {
            ae_eval::tasks::converged_probe(model, data, LatentMode::Mean, converged_config, rng)
        })
        .transpose()?;
    Ok(LinearProbe {
        sampled: sampled.into(),
        mean_latent,
        converged,
        converged_mean_latent,
    })
}
