//! The model-dependent downstream tasks of SPEC "Downstream tasks": pure functions that
//! run a trained model on images through the model interface ([`ae_models::Model`], so any
//! backend) and return plain result structs. What a model can do (sample, draw its latent
//! afresh) comes from its [`ae_models::Capabilities`].
//!
//! Nothing here prints or draws; [`crate::render`] turns the results into files. All
//! randomness (the VAE family's `eps`, the vq prior, shuffles, initialisations) comes from
//! the caller's RNG, so a seeded RNG makes every task reproducible.

pub mod anomaly;
pub mod dead_units;
pub mod interpolation;
pub mod latent;
pub mod logistic_probe;
pub mod probe;
pub mod reconstruction;
pub mod sampling;

pub use anomaly::{anomaly_detection, published_scores, AnomalyResult, ANOMALOUS_DIGIT};
pub use dead_units::{count_dead, dead_units, DeadUnits};
pub use interpolation::{interpolate, INTERPOLATION_STEPS};
pub use latent::{latent_structure, structure_of_codes, LatentStructure};
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

use ae_models::ModelError;

use crate::clustering::ClusteringError;
use crate::reduction::ReductionError;
use crate::roc::RocError;

/// Why a downstream task could not run on a model.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The model failed (inputs of the wrong size, a tensor library error).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The anomaly scores do not make a ROC curve.
    #[error(transparent)]
    Roc(#[from] RocError),
    /// The latent codes could not be put in the plane.
    #[error(transparent)]
    Reduction(#[from] ReductionError),
    /// K-means could not be fitted to the latent codes.
    #[error(transparent)]
    Clustering(#[from] ClusteringError),
    /// The converged probe could not be fitted.
    #[error(transparent)]
    Probe(#[from] ProbeError),
}
