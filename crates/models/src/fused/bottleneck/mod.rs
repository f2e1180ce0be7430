//! Bottlenecks: what turns the encoder output `e` into the latent code `z`, with their
//! extra loss terms (SPEC, "The nine configurations").

mod identity;
mod sparse;
mod variational;
mod vector_quantized;

use rand::RngCore;

pub use identity::Identity;
pub use sparse::Sparse;
pub use variational::Variational;
pub use vector_quantized::VectorQuantized;

use crate::kernels::param::{NamedTensor, NamedTensorMut, Param};
use crate::latent::{BottleneckKind, LatentMode};

/// Builds the bottleneck `kind` describes, drawing any parameters from `rng`.
pub fn build(
    kind: &BottleneckKind,
    latent_dim: usize,
    rng: &mut dyn RngCore,
) -> Box<dyn Bottleneck> {
    match *kind {
        BottleneckKind::Identity => Box::new(Identity::default()),
        BottleneckKind::Sparse { sparsity, beta } => Box::new(Sparse::new(sparsity, beta)),
        BottleneckKind::Variational { beta } => Box::new(Variational::new(latent_dim, beta)),
        BottleneckKind::VectorQuantized { num_codes, beta } => {
            Box::new(VectorQuantized::new(latent_dim, num_codes, beta, rng))
        }
    }
}

/// A bottleneck's forward and backward pass.
pub trait Bottleneck: Send + std::fmt::Debug {
    /// Computes `z` from `e` (`[e.len() / n, n]`, one column per sample, see
    /// [`crate::kernels::layout`]), keeps it (see [`Bottleneck::latent`]) and returns the bottleneck
    /// loss (already averaged over the batch where SPEC says so).
    fn forward(&mut self, e: &[f32], n: usize, mode: LatentMode, rng: &mut dyn RngCore) -> f64;

    /// The same computation as [`Bottleneck::forward`] in eval use, keeping nothing:
    /// returns `z` (`[latent_dim, n]`) and the loss, drawing the same random numbers.
    fn infer(
        &self,
        e: &[f32],
        n: usize,
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> (Vec<f32>, f64);

    /// The latent code of the last forward pass, `[latent_dim, n]`.
    fn latent(&self) -> &[f32];

    /// Gradient of the total loss with respect to `e`, given its gradient with respect to
    /// `z` from the decoder; adds the bottleneck loss's own gradient and writes parameter
    /// gradients.
    fn backward(&mut self, e: &[f32], grad_z: &[f32], n: usize) -> &[f32];

    /// Draws `n` latent codes from the prior, for variants that can sample: `[n, latent_dim]`,
    /// one row per sample (the layout [`crate::Model::decode`] takes).
    fn sample(&self, _n: usize, _rng: &mut dyn RngCore) -> Option<Vec<f32>> {
        None
    }

    /// Trainable parameters.
    fn params_mut<'a>(&'a mut self, _out: &mut Vec<&'a mut Param>) {}

    /// Tensors to save under `prefix`.
    fn named_tensors<'a>(&'a self, _prefix: &str, _out: &mut Vec<NamedTensor<'a>>) {}

    /// Mutable views of the same tensors.
    fn named_tensors_mut<'a>(&'a mut self, _prefix: &str, _out: &mut Vec<NamedTensorMut<'a>>) {}

    /// Number of trainable scalars.
    fn param_count(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(0)
    }

    #[test]
    fn sparse_kl_matches_hand_computation() {
        // e = 0 everywhere -> z = 0.5, q = 0.5; KL(0.25||0.5) = 0.25 ln 0.5 + 0.75 ln 1.5
        // = 0.130812..., two dimensions, beta 1 -> 0.261624
        let mut b = Sparse::new(0.25, 1.0);
        let loss = b.forward(&[0.0; 6], 3, LatentMode::Sampled, &mut rng());
        assert!((loss - 2.0 * (0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln())).abs() < 1e-6);
        assert!(b.latent().iter().all(|&z| z == 0.5));
        // d/dq KL = -p/q + (1-p)/(1-q) = -0.5 + 1.5 = 1; / n = 1/3; times z(1-z) = 1/4
        let grad = b.backward(&[0.0; 6], &[0.0; 6], 3);
        assert!(grad.iter().all(|g| (g - 1.0 / 12.0).abs() < 1e-6));
    }

    #[test]
    fn variational_kl_scales_with_beta() {
        // mu = 1, log_sigma = 0: KL per dim = 0.5 (1 + 1 - 1 - 0) = 0.5; one dim, one row
        for beta in [1.0f32, 2.0, 0.5] {
            let mut b = Variational::new(1, beta);
            let loss = b.forward(&[1.0, 0.0], 1, LatentMode::Mean, &mut rng());
            assert!((loss - 0.5 * beta as f64).abs() < 1e-6);
            assert_eq!(b.latent(), &[1.0]);
        }
        // mu = 0, log_sigma = ln 2: 0.5 (4 + 0 - 1 - 2 ln 2) = 1.5 - ln 2
        let mut b = Variational::new(1, 1.0);
        let loss = b.forward(&[0.0, 2f32.ln()], 1, LatentMode::Mean, &mut rng());
        assert!((loss - (1.5 - 2f64.ln())).abs() < 1e-6);
    }

    #[test]
    fn variational_sampling_uses_sigma() {
        let mut b = Variational::new(1, 1.0);
        let e: Vec<f32> = [vec![3.0; 1000], vec![0.5f32.ln(); 1000]].concat();
        b.forward(&e, 1000, LatentMode::Sampled, &mut rng());
        let z = b.latent();
        let mean = z.iter().sum::<f32>() / 1000.0;
        let sd = (z.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 1000.0).sqrt();
        assert!(
            (mean - 3.0).abs() < 0.1 && (sd - 0.5).abs() < 0.05,
            "mean {mean} sd {sd}"
        );
    }

    fn vq_with_codes(codes: Vec<f32>, dims: usize) -> VectorQuantized {
        let mut b = VectorQuantized::new(dims, codes.len() / dims, 1.0, &mut rng());
        b.codebook.value = codes;
        b
    }

    #[test]
    fn vq_picks_the_nearest_code_of_each_dimension() {
        // dim 0 codes [-1, 0, 1], dim 1 codes [10, 20, 30]
        let mut b = vq_with_codes(vec![-1.0, 0.0, 1.0, 10.0, 20.0, 30.0], 2);
        assert_eq!(b.nearest(0, 0.4), 1);
        assert_eq!(b.nearest(0, 0.6), 2);
        assert_eq!(b.nearest(1, 24.0), 1);
        assert_eq!(b.nearest(0, 0.5), 1); // tie: first code, as torch.argmin
        let loss = b.forward(&[0.4, 24.0], 1, LatentMode::Sampled, &mut rng());
        assert_eq!(b.latent(), &[0.0, 20.0]);
        // (1 + beta) * ((0.4 - 0)^2 + (24 - 20)^2) = 2 * 16.16
        assert!((loss - 32.32).abs() < 1e-4);
    }

    #[test]
    fn vq_gradient_passes_straight_through_plus_commitment() {
        let mut b = vq_with_codes(vec![-1.0, 0.0, 1.0], 1);
        let e = [0.4f32, -0.9];
        b.forward(&e, 2, LatentMode::Sampled, &mut rng());
        assert_eq!(b.latent(), &[0.0, -1.0]);
        let grad_z = [0.7f32, -0.3];
        let grad_e = b.backward(&e, &grad_z, 2).to_vec();
        // straight through: grad_z itself, plus beta * 2 (e - z) / n from the commitment term
        assert!((grad_e[0] - (0.7 + 0.4)).abs() < 1e-6);
        assert!((grad_e[1] - (-0.3 + 0.1)).abs() < 1e-6);
        // the codebook term pulls the chosen codes towards e: 2 (z - e) / n
        assert!((b.codebook.grad[1] - (-0.4)).abs() < 1e-6);
        assert!((b.codebook.grad[0] - (-0.1)).abs() < 1e-6);
        assert_eq!(b.codebook.grad[2], 0.0);
    }

    #[test]
    fn only_variational_and_vq_bottlenecks_sample() {
        assert!(Identity::default().sample(4, &mut rng()).is_none());
        assert!(Sparse::new(0.25, 1.0).sample(4, &mut rng()).is_none());
        assert_eq!(
            Variational::new(3, 1.0)
                .sample(4, &mut rng())
                .unwrap()
                .len(),
            12
        );
        let vq = vq_with_codes(vec![5.0, 6.0, 7.0, 8.0], 2);
        let s = vq.sample(10, &mut rng()).unwrap();
        assert!(s
            .chunks(2)
            .all(|r| (r[0] == 5.0 || r[0] == 6.0) && (r[1] == 7.0 || r[1] == 8.0)));
    }
}
