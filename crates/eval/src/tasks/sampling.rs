//! Task 2, sampling: latent codes drawn from the model's prior, decoded into images.

use ae_models::{Model, ModelError};
use rand::RngCore;

/// Number of samples in the reference's grid.
pub const SAMPLE_COUNT: usize = 16;

/// `n` images decoded (eval mode, probabilities) from latent codes drawn from the model's
/// prior, `n x input_dim` row-major; `None` for a model that cannot sample (see
/// [`ae_models::Capabilities::can_sample`]). The VAE family draws `z ~ N(0, I)`, vq each
/// dimension's code uniformly from its codebook.
///
/// # Errors
/// If the model fails.
pub fn samples(
    model: &dyn Model,
    n: usize,
    rng: &mut dyn RngCore,
) -> Result<Option<Vec<f32>>, ModelError> {
    if !model.capabilities().can_sample {
        return Ok(None);
    }
    model
        .sample_latents(n, rng)?
        .map(|z| model.decode(&z))
        .transpose()
}
