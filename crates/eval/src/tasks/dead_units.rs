//! Dead code units: latent units that are exactly zero on every test image (a ReLU on the
//! code layer, as the shallow variant has, can switch a unit off for good during training).

use ae_data::Images;
use ae_models::{LatentMode, Model, ModelError};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// How many of a model's latent units are dead on the test images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadUnits {
    /// Latent units of the model.
    pub latent_dim: usize,
    /// Units that are exactly 0 on every test image.
    pub dead: usize,
    /// Per unit, the fraction of test images on which it is exactly 0.
    pub zero_fraction: Vec<f64>,
}

/// Counts the dead units of `codes` (`[n, latent_dim]`, row-major).
///
/// # Panics
/// If `latent_dim` is 0 or `codes` is not whole rows of it.
pub fn count_dead(codes: &[f32], latent_dim: usize) -> DeadUnits {
    assert!(
        latent_dim > 0 && codes.len().is_multiple_of(latent_dim),
        "{} codes are not rows of {latent_dim}",
        codes.len()
    );
    let rows = codes.len() / latent_dim;
    let zero_fraction: Vec<f64> = (0..latent_dim)
        .map(|j| {
            let zeros = codes
                .chunks_exact(latent_dim)
                .filter(|row| row[j] == 0.0)
                .count();
            zeros as f64 / rows.max(1) as f64
        })
        .collect();
    DeadUnits {
        latent_dim,
        // With no rows every fraction is 0, so no unit counts as dead.
        dead: zero_fraction.iter().filter(|&&f| f == 1.0).count(),
        zero_fraction,
    }
}

/// The dead units of `model`'s deterministic latent codes ([`LatentMode::Mean`]) of `test`.
///
/// # Errors
/// If the model fails (e.g. its input size is not the images').
pub fn dead_units(
    model: &dyn Model,
    test: &Images,
    rng: &mut dyn RngCore,
) -> Result<DeadUnits, ModelError> {
    let codes = model.latent_codes(&test.pixels, LatentMode::Mean, rng)?;
    Ok(count_dead(&codes, model.latent_dim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_is_dead_only_when_zero_on_every_image() {
        // Three images, three units: unit 0 is zero everywhere (dead), unit 1 on two of
        // three images, unit 2 never (a tiny value is not zero).
        let codes = [0.0, 0.0, 1e-30, 0.0, 2.0, 0.5, 0.0, 0.0, 3.0];
        let d = count_dead(&codes, 3);
        assert_eq!(d.dead, 1);
        assert_eq!(d.zero_fraction, [1.0, 2.0 / 3.0, 0.0]);
        // Negative zero counts as zero.
        assert_eq!(count_dead(&[-0.0, 1.0], 2).dead, 1);
        assert_eq!(count_dead(&[], 2).dead, 0);
    }
}
