//! Task 4, latent structure: test-set latent codes in the plane and how well k-means clusters
//! of them match the classes.

use ae_data::LabelledImages;
use ae_models::{LatentMode, Model};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::TaskError;
use crate::clustering::{cluster_latents, ClusteringScores};
use crate::reduction::{reduce_to_2d_subset, Reduction};

/// Structure of one model's latent space on the test set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatentStructure {
    /// Size of each latent code before the reduction.
    pub latent_dim: usize,
    /// How the points were placed in the plane (the codes themselves for 2-D latents, UMAP
    /// or t-SNE otherwise), for plot captions.
    pub method: String,
    /// The plotted points.
    pub points: Vec<[f32; 2]>,
    /// Class of each point, in the same order.
    pub labels: Vec<u8>,
    /// K-means (k = 10) on all the codes against the classes.
    pub clustering: ClusteringScores,
}

/// The latent structure of `test` under `model`, codes formed as the reference does
/// ([`LatentMode::Sampled`]); see [`structure_of_codes`].
///
/// # Errors
/// If the model fails, or as [`structure_of_codes`].
///
/// # Panics
/// As [`structure_of_codes`].
pub fn latent_structure(
    model: &dyn Model,
    test: &LabelledImages,
    tsne_points: usize,
    reduction: Reduction,
    seed: u64,
    rng: &mut dyn RngCore,
) -> Result<LatentStructure, TaskError> {
    let codes = model.latent_codes(&test.images.pixels, LatentMode::Sampled, rng)?;
    structure_of_codes(
        &codes,
        model.latent_dim(),
        &test.labels,
        tsne_points,
        reduction,
        seed,
    )
}

/// The latent structure of `n x dim` `codes` with their `labels`: k-means on every code, and
/// the codes put in the plane with `reduction`, UMAP on every code, t-SNE on at most
/// `tsne_points` of them (see [`reduce_to_2d_subset`]); `seed` drives the reduction and
/// k-means.
///
/// # Errors
/// As [`cluster_latents`] (k-means failed) and [`reduce_to_2d_subset`] (e.g. a code is not
/// finite).
///
/// # Panics
/// As [`cluster_latents`] and [`reduce_to_2d_subset`].
pub fn structure_of_codes(
    codes: &[f32],
    dim: usize,
    labels: &[u8],
    tsne_points: usize,
    reduction: Reduction,
    seed: u64,
) -> Result<LatentStructure, TaskError> {
    let clustering = cluster_latents(codes, dim, labels, seed)?;
    let cap = match reduction {
        Reduction::Umap => usize::MAX,
        Reduction::Tsne => tsne_points,
    };
    let (reduced, labels) = reduce_to_2d_subset(codes, dim, labels, cap, seed, reduction)?;
    Ok(LatentStructure {
        latent_dim: dim,
        method: reduced.method,
        points: reduced.points,
        labels,
        clustering,
    })
}
