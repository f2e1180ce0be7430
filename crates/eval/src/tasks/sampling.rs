//! Task 2, sampling: latent codes drawn from the variant's prior, decoded into images.

use ae_models::Autoencoder;
use rand::RngCore;

/// Number of samples in the reference's grid.
pub const SAMPLE_COUNT: usize = 16;

/// `n` images decoded (eval mode, probabilities) from latent codes drawn from the model's
/// prior, `n x INPUT_DIM` row-major; `None` for variants that cannot sample. The VAE family
/// draws `z ~ N(0, I)`, vq each dimension's code uniformly from its codebook.
pub fn samples(model: &mut Autoencoder, n: usize, rng: &mut dyn RngCore) -> Option<Vec<f32>> {
    let z = model.sample_latents(n, rng)?;
    Some(model.decode(&z))
}
