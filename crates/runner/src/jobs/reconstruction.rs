//! Task 1 jobs: mean test BCE of the general model and its reconstruction grid.

use ae_data::{LabelledImages, IMAGE_SIDE};
use ae_models::Model;
use ae_results::images::Reconstruction;
use ae_results::pixels::Pixels;
use anyhow::Result;
use rand::RngCore;

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
