//! Task 2 jobs: images decoded from the general model's prior (sampling variants only).

use ae_data::IMAGE_SIDE;
use ae_models::Model;
use anyhow::Result;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::pixels::Pixels;

/// Result of a sampling job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    /// The decoded samples.
    pub images: Pixels,
}

/// Draws `count` samples; an error for a model that cannot sample (the plan never asks).
pub fn run(model: &dyn Model, count: usize, rng: &mut dyn RngCore) -> Result<Samples> {
    let images = ae_eval::tasks::samples(model, count, rng)?
        .ok_or_else(|| anyhow::anyhow!("variant `{}` cannot sample", model.variant().name))?;
    Ok(Samples {
        images: Pixels::from_unit(&images, IMAGE_SIDE),
    })
}
