//! Task 4, latent structure: test-set latent codes, their 2-D reduction and how well
//! k-means clusters of them match the classes.

use ae_data::{Images, LabelledImages};
use ae_models::{Autoencoder, LatentMode};
use rand::RngCore;
use serde::Serialize;

use crate::clustering::{cluster_latents, ClusteringScores};
use crate::reduction::{reduce_to_2d, Reduced2d, Reduction, ReductionError};

/// Structure of one model's latent space on the test set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatentStructure {
    /// Size of each latent code before the reduction.
    pub codes_dim: usize,
    /// The codes in the plane (the codes themselves for 2-D latents, UMAP or t-SNE otherwise).
    pub reduced: Reduced2d,
    /// Class of each point, in the same order.
    pub labels: Vec<u8>,
    /// K-means (k = 10) on the full codes against the classes.
    pub clustering: ClusteringScores,
}

/// Latent codes (after the bottleneck, eval mode) of every image, `len x latent_dim`.
pub fn latent_codes(
    model: &mut Autoencoder,
    images: &Images,
    mode: LatentMode,
    rng: &mut dyn RngCore,
) -> Vec<f32> {
    model.latent_codes(&images.pixels, mode, rng)
}

/// The latent structure of `test` under `model`, codes formed as the reference does
/// ([`LatentMode::Sampled`]), put in the plane with `reduction`; `seed` drives the
/// reduction and k-means.
///
/// # Errors
/// As [`reduce_to_2d`].
///
/// # Panics
/// If `test` has fewer than 10 images (k-means needs one per cluster).
pub fn latent_structure(
    model: &mut Autoencoder,
    test: &LabelledImages,
    seed: u64,
    reduction: Reduction,
    rng: &mut dyn RngCore,
) -> Result<LatentStructure, ReductionError> {
    let codes = latent_codes(model, &test.images, LatentMode::Sampled, rng);
    structure_of_codes(&codes, model.latent_dim, &test.labels, seed, reduction)
}

/// The latent structure of precomputed `n x dim` `codes` with their `labels` (for codes
/// formed another way, e.g. with [`LatentMode::Mean`]).
///
/// # Errors
/// As [`reduce_to_2d`].
///
/// # Panics
/// As [`cluster_latents`] and [`reduce_to_2d`].
pub fn structure_of_codes(
    codes: &[f32],
    dim: usize,
    labels: &[u8],
    seed: u64,
    reduction: Reduction,
) -> Result<LatentStructure, ReductionError> {
    Ok(LatentStructure {
        codes_dim: dim,
        reduced: reduce_to_2d(codes, dim, seed, reduction)?,
        labels: labels.to_vec(),
        clustering: cluster_latents(codes, dim, labels, seed),
    })
}
