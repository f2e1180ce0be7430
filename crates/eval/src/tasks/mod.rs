//! The model-dependent downstream tasks of SPEC "Downstream tasks": pure functions that
//! run a trained [`ae_models::Autoencoder`] on images and return plain result structs.
//!
//! Nothing here prints or draws; [`crate::render`] turns the results into files. All
//! randomness (the VAE family's `eps`, the vq prior, shuffles, initialisations) comes from
//! the caller's RNG, so a seeded RNG makes every task reproducible.

pub mod anomaly;
pub mod interpolation;
pub mod latent;
pub mod logistic_probe;
pub mod probe;
pub mod reconstruction;
pub mod sampling;

pub use anomaly::{anomaly_detection, published_scores, AnomalyResult, ANOMALOUS_DIGIT};
pub use interpolation::{interpolate, INTERPOLATION_STEPS};
pub use latent::{latent_codes, latent_structure, structure_of_codes, LatentStructure};
pub use logistic_probe::{
    converged_probe, converged_random_encoder, fit_logistic_probe, Features, LogisticProbeConfig,
    LogisticProbeResult, ProbeError,
};
pub use probe::{
    accuracy, linear_probe, random_encoder, softmax_cross_entropy, supervised, Decision,
    EarlyStopping, EvalBatchNorm, ProbeConfig, ProbeData, ProbeResult, NUM_CLASSES,
};
pub use reconstruction::{reconstruction, ReconstructionResult, GRID_IMAGES};
pub use sampling::{samples, SAMPLE_COUNT};

use ae_models::{BottleneckKind, LatentMode};

/// Whether latent codes of `bottleneck` differ between calls in `mode`: only the
/// variational bottleneck in [`LatentMode::Sampled`] draws fresh noise.
pub(crate) fn is_stochastic(bottleneck: &BottleneckKind, mode: LatentMode) -> bool {
    match bottleneck {
        BottleneckKind::Variational { .. } => mode == LatentMode::Sampled,
        BottleneckKind::Identity
        | BottleneckKind::Sparse { .. }
        | BottleneckKind::VectorQuantized { .. } => false,
    }
}
