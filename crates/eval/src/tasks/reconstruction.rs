//! Task 1, reconstruction: mean test BCE and the 16 originals beside their reconstructions.

use ae_data::{Images, INPUT_DIM};
use ae_models::{LatentMode, Model, ModelError};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Number of test images shown in the reconstruction grid.
pub const GRID_IMAGES: usize = 16;

/// Reconstruction quality of one model on the test set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconstructionResult {
    /// Mean over test images of the per-image BCE summed over pixels, eval mode, latent
    /// codes as the reference forms them ([`LatentMode::Sampled`]).
    pub mean_bce: f64,
    /// The same with the deterministic mean latent ([`LatentMode::Mean`]); `Some` only for
    /// a stochastic latent (the VAE family), where it differs.
    pub mean_bce_mean_latent: Option<f64>,
    /// The first [`GRID_IMAGES`] test images (fewer if the test set is smaller), row-major,
    /// [`INPUT_DIM`] values each. Not serialised (read back empty).
    #[serde(skip)]
    pub grid_originals: Vec<f32>,
    /// Their reconstructions ([`LatentMode::Sampled`]), same layout. Not serialised (read
    /// back empty).
    #[serde(skip)]
    pub grid_reconstructions: Vec<f32>,
}

/// Reconstructs the test set with `model` in eval mode: mean BCE (sampled and, for a
/// stochastic latent, mean latent) and the grid images.
///
/// # Errors
/// If the model fails (e.g. its input size is not the images').
pub fn reconstruction(
    model: &dyn Model,
    test: &Images,
    rng: &mut dyn RngCore,
) -> Result<ReconstructionResult, ModelError> {
    let mean_bce = mean_error(model, test, LatentMode::Sampled, rng)?;
    let mean_bce_mean_latent = if model.capabilities().stochastic_latent {
        Some(mean_error(model, test, LatentMode::Mean, rng)?)
    } else {
        None
    };
    let grid_originals = test.pixels[..test.len().min(GRID_IMAGES) * INPUT_DIM].to_vec();
    let grid_reconstructions = model.reconstruct(&grid_originals, LatentMode::Sampled, rng)?;
    Ok(ReconstructionResult {
        mean_bce,
        mean_bce_mean_latent,
        grid_originals,
        grid_reconstructions,
    })
}

fn mean_error(
    model: &dyn Model,
    images: &Images,
    mode: LatentMode,
    rng: &mut dyn RngCore,
) -> Result<f64, ModelError> {
    let errors = model.reconstruction_errors(&images.pixels, mode, rng)?;
    Ok(errors.iter().map(|&e| f64::from(e)).sum::<f64>() / errors.len().max(1) as f64)
}
