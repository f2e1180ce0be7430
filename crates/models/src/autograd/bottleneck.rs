//! The bottlenecks as tensor operations for the autograd backend, built from a
//! [`BottleneckKind`]; every random draw comes from the host RNG in the fused engine's order.

use candle_core::{Device, Result, Tensor, D};
use candle_nn::VarMap;
use rand::RngCore;
use rand_distr::{Distribution, StandardNormal};

use super::network::uniform_var;
use crate::kernels::noise::{codebook_prior, standard_normal_prior};
use crate::latent::{BottleneckKind, LatentMode};

/// Checkpoint key of vq's codebooks, `[latent_dim, num_codes]`.
pub const CODEBOOK_KEY: &str = "bottleneck.embeddings";

/// A bottleneck `e -> z` with its loss term.
#[derive(Clone, Debug)]
pub enum TensorBottleneck {
    /// `z = e`, no loss.
    Identity,
    /// `z = sigmoid(e)`, loss `beta * sum_j KL(sparsity || mean_batch z_j)`.
    Sparse {
        /// Target mean activation.
        sparsity: f64,
        /// Weight of the KL term.
        beta: f64,
    },
    /// `z = mu + exp(log_sigma) * eps`, loss `beta * KL(q || N(0, I))`.
    Variational {
        /// Size of `z` (half the encoder's output).
        latent_dim: usize,
        /// Weight of the KL term.
        beta: f64,
    },
    /// Nearest code of each dimension's codebook, straight-through gradient.
    VectorQuantized {
        /// The codebooks, `[latent_dim, num_codes]` (a variable of the var map).
        codebook: Tensor,
        /// Weight of the commitment term.
        beta: f64,
    },
}

impl TensorBottleneck {
    /// Builds `kind` for a latent of `latent_dim`, adding vq's codebook (U(-1/K, 1/K), drawn
    /// from `rng`) to `varmap`.
    pub fn new(
        kind: &BottleneckKind,
        latent_dim: usize,
        varmap: &VarMap,
        device: &Device,
        rng: &mut dyn RngCore,
    ) -> Result<Self> {
        Ok(match *kind {
            BottleneckKind::Identity => Self::Identity,
            BottleneckKind::Sparse { sparsity, beta } => Self::Sparse {
                sparsity: f64::from(sparsity),
                beta: f64::from(beta),
            },
            BottleneckKind::Variational { beta } => Self::Variational {
                latent_dim,
                beta: f64::from(beta),
            },
            BottleneckKind::VectorQuantized { num_codes, beta } => {
                let shape = [latent_dim, num_codes];
                let bound = 1.0 / num_codes as f32;
                let codebook = uniform_var(varmap, CODEBOOK_KEY, &shape, bound, device, rng)?;
                Self::VectorQuantized {
                    codebook,
                    beta: f64::from(beta),
                }
            }
        })
    }

    /// `z` (`[n, latent_dim]`) of the encoder outputs `e` (`[n, encoded_dim]`) and the loss
    /// term averaged over the batch (`None` for the identity).
    pub fn forward(
        &self,
        e: &Tensor,
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<(Tensor, Option<Tensor>)> {
        match self {
            Self::Identity => Ok((e.clone(), None)),
            Self::Sparse { sparsity: p, beta } => {
                let z = candle_nn::ops::sigmoid(e)?;
                let q = z.mean(0)?;
                // KL(p || q) = p ln(p / q) + (1 - p) ln((1 - p) / (1 - q))
                let first = ((q.recip()? * *p)?.log()? * *p)?;
                let second = (((q.neg()? + 1.0)?.recip()? * (1.0 - p))?.log()? * (1.0 - p))?;
                let kl = (first + second)?.sum_all()?;
                Ok((z, Some((kl * *beta)?)))
            }
            Self::Variational { latent_dim, beta } => {
                let l = *latent_dim;
                let n = e.dim(0)?;
                let mu = e.narrow(1, 0, l)?;
                let log_sigma = e.narrow(1, l, l)?;
                let z = match mode {
                    LatentMode::Mean => mu.clone(),
                    LatentMode::Sampled => {
                        // Drawn dimension by dimension, as the fused engine draws them.
                        let eps: Vec<f32> =
                            (0..n * l).map(|_| StandardNormal.sample(rng)).collect();
                        let eps = Tensor::from_vec(eps, (l, n), e.device())?.t()?;
                        (&mu + (log_sigma.exp()? * eps)?)?
                    }
                };
                // mean_batch(0.5 * sum_j(exp(2 log_sigma) + mu^2 - 1 - 2 log_sigma))
                let two_log_sigma = (log_sigma * 2.0)?;
                let kl = ((two_log_sigma.exp()? + mu.sqr()?)? - two_log_sigma)?;
                let kl = (((kl - 1.0)?.sum(1)? * 0.5)?.mean_all()? * *beta)?;
                Ok((z, Some(kl)))
            }
            Self::VectorQuantized { codebook, beta } => {
                let (n, l) = e.dims2()?;
                let num_codes = codebook.dim(1)?;
                let codes = codebook.unsqueeze(0)?.broadcast_as((n, l, num_codes))?;
                let index = codes
                    .broadcast_sub(&e.unsqueeze(2)?)?
                    .sqr()?
                    .argmin_keepdim(D::Minus1)?;
                let z = codes.contiguous()?.gather(&index, 2)?.squeeze(2)?;
                // mean_batch(sum_j((sg(e) - z)^2 + beta (e - sg(z))^2))
                let codebook_term = (&z - e.detach())?.sqr()?;
                let commitment = (e - z.detach())?.sqr()?;
                let loss = (codebook_term + (commitment * *beta)?)?
                    .sum(1)?
                    .mean_all()?;
                let straight_through = (e + (z - e)?.detach())?;
                Ok((straight_through, Some(loss)))
            }
        }
    }

    /// `n` latent codes from the prior, `[n, latent_dim]` row-major, or `None` without one.
    pub fn sample(&self, n: usize, rng: &mut dyn RngCore) -> Result<Option<Vec<f32>>> {
        Ok(match self {
            Self::Identity | Self::Sparse { .. } => None,
            Self::Variational { latent_dim, .. } => {
                Some(standard_normal_prior(n, *latent_dim, rng))
            }
            Self::VectorQuantized { codebook, .. } => {
                let values = codebook.flatten_all()?.to_vec1::<f32>()?;
                Some(codebook_prior(&values, codebook.dim(1)?, n, rng))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn scalar(t: Option<Tensor>) -> f64 {
        f64::from(t.unwrap().to_scalar::<f32>().unwrap())
    }

    #[test]
    fn loss_terms_match_hand_computation() {
        let dev = Device::Cpu;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        // sparse: e = 0 -> z = 0.5 = q; 2 dims of KL(0.25 || 0.5) = 0.25 ln 0.5 + 0.75 ln 1.5
        let sparse = TensorBottleneck::Sparse {
            sparsity: 0.25,
            beta: 1.0,
        };
        let e = Tensor::zeros((3, 2), candle_core::DType::F32, &dev).unwrap();
        let (_, loss) = sparse.forward(&e, LatentMode::Sampled, &mut rng).unwrap();
        let expected = 2.0 * (0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln());
        assert!((scalar(loss) - expected).abs() < 1e-6);
        // vae: mu = 0, log_sigma = ln 2 -> 0.5 (4 - 1 - 2 ln 2) = 1.5 - ln 2, beta 2
        let vae = TensorBottleneck::Variational {
            latent_dim: 1,
            beta: 2.0,
        };
        let e = Tensor::new(&[[0.0f32, 2f32.ln()]], &dev).unwrap();
        let (z, loss) = vae.forward(&e, LatentMode::Mean, &mut rng).unwrap();
        assert!((scalar(loss) - 2.0 * (1.5 - 2f64.ln())).abs() < 1e-6);
        assert_eq!(z.to_vec2::<f32>().unwrap(), [[0.0]]);
        // vq: codes [-1, 0, 1]; e = 0.4 -> z = 0, loss (1 + beta) 0.16 = 0.32 with beta 1
        let vq = TensorBottleneck::VectorQuantized {
            codebook: Tensor::new(&[[-1.0f32, 0.0, 1.0]], &dev).unwrap(),
            beta: 1.0,
        };
        let e = Tensor::new(&[[0.4f32]], &dev).unwrap();
        let (z, loss) = vq.forward(&e, LatentMode::Sampled, &mut rng).unwrap();
        assert_eq!(z.to_vec2::<f32>().unwrap(), [[0.0]]);
        assert!((scalar(loss) - 0.32).abs() < 1e-6);
    }
}
