//! Task 1 jobs: mean test BCE of the general model and its reconstruction grid.

use ae_data::{LabelledImages, IMAGE_SIDE};
use ae_models::Model;
use anyhow::Result;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::pixels::Pixels;

/// Result of a reconstruction job: the eval crate's numbers with the grid stored as
/// 8-bit images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reconstruction {
    /// Mean test BCE with the reference's sampled latent.
    pub mean_bce: f64,
    /// Mean test BCE with the deterministic mean latent (VAE family only).
    pub mean_bce_mean_latent: Option<f64>,
    /// The first test images.
    pub originals: Pixels,
    /// Their reconstructions.
    pub reconstructions: Pixels,
}

/// Reconstructs `test` with `model` (eval mode).
///
/// # Errors
/// If the model fails.
pub fn run(
    model: &dyn Model,
    test: &LabelledImages,
    rng: &mut dyn RngCore,
) -> Result<Reconstruction> {
    let r = ae_eval::tasks::reconstruction(model, &test.images, rng)?;
    Ok(Reconstruction {
        mean_bce: r.mean_bce,
        mean_bce_mean_latent: r.mean_bce_mean_latent,
        originals: Pixels::from_unit(&r.grid_originals, IMAGE_SIDE),
        reconstructions: Pixels::from_unit(&r.grid_reconstructions, IMAGE_SIDE),
    })
}
