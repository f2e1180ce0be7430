//! Task 3 jobs: frames between two test images' encodings, decoded by the general model.

use ae_data::{LabelledImages, IMAGE_SIDE};
use ae_models::{LatentMode, Model};
use ae_results::images::Interpolation;
use ae_results::pixels::Pixels;
use anyhow::{ensure, Result};
use rand::RngCore;

/// Interpolates from test image `from` to `to` in `steps` frames, the latent formed as the
/// reference does ([`LatentMode::Sampled`]).
///
/// # Errors
/// If an image is outside the test set, or the model fails.
pub fn run(
    model: &dyn Model,
    test: &LabelledImages,
    from: usize,
    to: usize,
    steps: usize,
    rng: &mut dyn RngCore,
) -> Result<Interpolation> {
    ensure!(
        from < test.len() && to < test.len(),
        "interpolation images {from} and {to} are outside the {} test images",
        test.len()
    );
    let frames = frames_between(model, test, from, to, steps, rng)?;
    Ok(Interpolation {
        from: (from, test.labels[from]),
        to: (to, test.labels[to]),
        frames: Pixels::from_unit(&frames, IMAGE_SIDE),
    })
}

/// The `steps` decoded frames between test images `from` and `to`, the latent formed as the
/// reference does ([`LatentMode::Sampled`]).
///
/// # Errors
/// If the model fails.
pub fn frames_between(
    model: &dyn Model,
    test: &LabelledImages,
    from: usize,
    to: usize,
    steps: usize,
    rng: &mut dyn RngCore,
) -> Result<Vec<f32>> {
    Ok(ae_eval::tasks::interpolate(
        model,
        test.images.row(from),
        test.images.row(to),
        steps,
        LatentMode::Sampled,
        rng,
    )?)
}
