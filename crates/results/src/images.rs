//! What tasks 1 to 3 compute: the reconstruction BCE with its grid, the samples and the
//! interpolation frames, the images stored as 8-bit [`Pixels`] so the figures draw exactly
//! what was computed.

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

/// Result of a sampling job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    /// The decoded samples.
    pub images: Pixels,
}

/// Result of an interpolation job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interpolation {
    /// Test image at the start, and its digit.
    pub from: (usize, u8),
    /// Test image at the end, and its digit.
    pub to: (usize, u8),
    /// The frames, first to last.
    pub frames: Pixels,
}
