//! The identity bottleneck: `z = e`, no loss.

use rand::RngCore;

use super::{Bottleneck, LatentMode};

/// `z = e` with loss 0 (shallow, vanilla, stacked, denoising).
#[derive(Debug, Default)]
pub struct Identity {
    z: Vec<f32>,
    grad_e: Vec<f32>,
}

impl Bottleneck for Identity {
    fn forward(&mut self, e: &[f32], _n: usize, _mode: LatentMode, _rng: &mut dyn RngCore) -> f64 {
        self.z.clear();
        self.z.extend_from_slice(e);
        0.0
    }

    fn infer(
        &self,
        e: &[f32],
        _n: usize,
        _mode: LatentMode,
        _rng: &mut dyn RngCore,
    ) -> (Vec<f32>, f64) {
        (e.to_vec(), 0.0)
    }

    fn latent(&self) -> &[f32] {
        &self.z
    }

    fn backward(&mut self, _e: &[f32], grad_z: &[f32], _n: usize) -> &[f32] {
        self.grad_e.clear();
        self.grad_e.extend_from_slice(grad_z);
        &self.grad_e
    }
}
