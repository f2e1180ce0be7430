//! Task 6 jobs: the linear probe on the frozen general model.

use ae_eval::tasks::{ProbeConfig, ProbeData};
use ae_models::{Autoencoder, BottleneckKind, LatentMode};
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
    /// With the reference's sampled latent.
    pub sampled: ProbeOutcome,
    /// With the deterministic mean latent (VAE family only).
    pub mean_latent: Option<ProbeOutcome>,
}

/// Trains the probe on `model`'s codes, and for the VAE family a second one on the means.
pub fn run(
    model: &mut Autoencoder,
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> LinearProbe {
    let sampled = ae_eval::tasks::linear_probe(model, data, LatentMode::Sampled, config, rng);
    let variational = matches!(model.variant.bottleneck, BottleneckKind::Variational { .. });
    let mean_latent = variational
        .then(|| ae_eval::tasks::linear_probe(model, data, LatentMode::Mean, config, rng).into());
    LinearProbe {
        sampled: sampled.into(),
        mean_latent,
    }
}
