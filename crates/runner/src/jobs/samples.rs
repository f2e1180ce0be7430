//! Task 2 jobs: images decoded from the general model's prior (sampling variants only).

use ae_data::IMAGE_SIDE;
use ae_models::Model;
use ae_results::images::Samples;
use ae_results::pixels::Pixels;
use anyhow::Result;
use rand::RngCore;

/// Draws `count` samples; an error for a model that cannot sample (the plan never asks).
pub fn run(model: &dyn Model, count: usize, rng: &mut dyn RngCore) -> Result<Samples> {
    let images = ae_eval::tasks::samples(model, count, rng)?
        .ok_or_else(|| anyhow::anyhow!("variant `{}` cannot sample", model.variant().name))?;
    Ok(Samples {
        images: Pixels::from_unit(&images, IMAGE_SIDE),
    })
}
