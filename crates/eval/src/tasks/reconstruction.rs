//! Task 1, reconstruction: mean test BCE and the 16 originals beside their reconstructions.

use ae_data::{Images, INPUT_DIM};
use ae_models::{Autoencoder, BottleneckKind, LatentMode};
use rand::RngCore;
use serde::Serialize;

/// Number of test images shown in the reconstruction grid.
pub const GRID_IMAGES: usize = 16;

/// Reconstruction quality of one model on the test set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReconstructionResult {
    /// Mean over test images of the per-image BCE summed over pixels, eval mode, latent
    /// codes as the reference forms them ([`LatentMode::Sampled`]).
    pub mean_bce: f64,
    /// The same with the deterministic mean latent ([`LatentMode::Mean`]); `Some` only for
    /// variational bottlenecks, where it differs.
    pub mean_bce_mean_latent: Option<f64>,
    /// The first [`GRID_IMAGES`] test images (fewer if the test set is smaller), row-major,
    /// [`INPUT_DIM`] values each. Not serialised.
    #[serde(skip)]
    pub grid_originals: Vec<f32>,
    /// Their reconstructions ([`LatentMode::Sampled`]), same layout. Not serialised.
    #[serde(skip)]
    pub grid_reconstructions: Vec<f32>,
}

/// Reconstructs the test set with `model` in eval mode: mean BCE (sampled and, for the VAE
/// family, mean latent) and the grid images.
pub fn reconstruction(
    model: &mut Autoencoder,
    test: &Images,
    rng: &mut dyn RngCore,
) -> ReconstructionResult {
    let mean_bce = mean_error(model, test, LatentMode::Sampled, rng);
    let mean_bce_mean_latent =
        matches!(model.variant.bottleneck, BottleneckKind::Variational { .. })
            .then(|| mean_error(model, test, LatentMode::Mean, rng));
    let grid_originals = test.pixels[..test.len().min(GRID_IMAGES) * INPUT_DIM].to_vec();
    let grid_reconstructions = model.reconstruct(&grid_originals, LatentMode::Sampled, rng);
    ReconstructionResult {
        mean_bce,
        mean_bce_mean_latent,
        grid_originals,
        grid_reconstructions,
    }
}

fn mean_error(
    model: &mut Autoencoder,
    images: &Images,
    mode: LatentMode,
    rng: &mut dyn RngCore,
) -> f64 {
    let errors = model.reconstruction_errors(&images.pixels, mode, rng);
    errors.iter().map(|&e| f64::from(e)).sum::<f64>() / errors.len().max(1) as f64
}
