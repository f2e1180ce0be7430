//! Task 4 jobs: test-set latent codes in the plane (UMAP or t-SNE above two dimensions) and
//! how well k-means clusters of the full codes match the classes.

use ae_data::LabelledImages;
use ae_eval::reduction::Reduction;
use ae_models::{Autoencoder, LatentMode};
use anyhow::{Context, Result};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// K-means (k = 10) against the classes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Hungarian-matched clustering accuracy.
    pub accuracy: f64,
    /// Normalised mutual information.
    pub nmi: f64,
}

/// Result of a latent-structure job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatentStructure {
    /// Size of the codes.
    pub latent_dim: usize,
    /// How the points were placed in the plane.
    pub method: String,
    /// The plotted points.
    pub points: Vec<[f32; 2]>,
    /// Their classes.
    pub labels: Vec<u8>,
    /// Clustering of all test codes.
    pub clustering: Clustering,
}

/// Codes of every test image (sampled latent, as the reference), clustered in full and put in
/// the plane with `reduction`: UMAP on every code, t-SNE on at most `max_points` of them;
/// `seed` drives the reduction and k-means.
///
/// # Errors
/// The reduction fails (e.g. a code is not finite).
pub fn run(
    model: &mut Autoencoder,
    test: &LabelledImages,
    max_points: usize,
    reduction: Reduction,
    seed: u64,
    rng: &mut dyn RngCore,
) -> Result<LatentStructure> {
    let dim = model.latent_dim;
    let codes = ae_eval::tasks::latent_codes(model, &test.images, LatentMode::Sampled, rng);
    let scores = ae_eval::clustering::cluster_latents(&codes, dim, &test.labels, seed);
    let cap = match reduction {
        Reduction::Umap => usize::MAX,
        Reduction::Tsne => max_points,
    };
    let (reduced, labels) =
        ae_eval::reduction::reduce_to_2d_subset(&codes, dim, &test.labels, cap, seed, reduction)
            .with_context(|| format!("reducing the latent-{dim} test codes to 2-D"))?;
    Ok(LatentStructure {
        latent_dim: dim,
        method: reduced.method,
        points: reduced.points,
        labels,
        clustering: Clustering {
            accuracy: scores.accuracy,
            nmi: scores.nmi,
        },
    })
}
