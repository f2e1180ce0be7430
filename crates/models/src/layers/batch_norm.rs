//! `BatchNorm1d` with PyTorch's train/eval behaviour and running statistics.

// The per-column loops read several per-column arrays in lockstep; indices say that best.
#![allow(clippy::needless_range_loop)]

use crate::param::{named, named_mut, NamedTensor, NamedTensorMut, Param};

/// PyTorch's default `eps`.
pub const BN_EPS: f32 = 1e-5;
/// PyTorch's default `momentum`.
pub const BN_MOMENTUM: f32 = 0.1;

/// Batch normalisation over the batch dimension of `[n, width]` activations.
///
/// In training mode it normalises with the batch mean and biased variance and moves the
/// running statistics by `momentum` (the running variance takes the unbiased estimate, as
/// PyTorch does); in eval mode it normalises with the running statistics.
#[derive(Clone, Debug)]
pub struct BatchNorm {
    /// Scale (gamma), initialised to 1.
    pub gamma: Param,
    /// Shift (beta), initialised to 0.
    pub beta: Param,
    /// Running mean, initialised to 0.
    pub running_mean: Vec<f32>,
    /// Running variance, initialised to 1.
    pub running_var: Vec<f32>,
    width: usize,
    /// Normalised input of the last training-mode forward pass, `[n, width]`.
    x_hat: Vec<f32>,
    /// `1/sqrt(var + eps)` of the last forward pass (batch or running variance).
    inv_std: Vec<f32>,
    /// Whether the last forward pass used batch statistics.
    used_batch_stats: bool,
}

impl BatchNorm {
    /// A fresh layer of the given width.
    pub fn new(width: usize) -> Self {
        Self {
            gamma: Param::filled(vec![width], 1.0),
            beta: Param::filled(vec![width], 0.0),
            running_mean: vec![0.0; width],
            running_var: vec![1.0; width],
            width,
            x_hat: Vec::new(),
            inv_std: vec![0.0; width],
            used_batch_stats: false,
        }
    }

    /// Number of trainable scalars (gamma and beta).
    pub fn param_count(&self) -> usize {
        2 * self.width
    }

    /// Normalises `z` (`[n, width]`) in place; `batch_stats` selects training-mode behaviour.
    pub fn forward(&mut self, z: &mut [f32], n: usize, batch_stats: bool) {
        let w = self.width;
        let z = &mut z[..n * w];
        self.used_batch_stats = batch_stats;
        if batch_stats {
            let mut mean = vec![0.0f32; w];
            for row in z.chunks_exact(w) {
                for (m, v) in mean.iter_mut().zip(row) {
                    *m += v;
                }
            }
            mean.iter_mut().for_each(|m| *m /= n as f32);
            let mut var = vec![0.0f32; w];
            for row in z.chunks_exact(w) {
                for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                    let d = v - m;
                    *s += d * d;
                }
            }
            let unbias = if n > 1 {
                n as f32 / (n as f32 - 1.0)
            } else {
                1.0
            };
            for j in 0..w {
                let biased = var[j] / n as f32;
                self.inv_std[j] = 1.0 / (biased + BN_EPS).sqrt();
                self.running_mean[j] =
                    (1.0 - BN_MOMENTUM) * self.running_mean[j] + BN_MOMENTUM * mean[j];
                self.running_var[j] =
                    (1.0 - BN_MOMENTUM) * self.running_var[j] + BN_MOMENTUM * biased * unbias;
            }
            self.x_hat.resize(n * w, 0.0);
            for (zrow, hrow) in z.chunks_exact_mut(w).zip(self.x_hat.chunks_exact_mut(w)) {
                for j in 0..w {
                    let h = (zrow[j] - mean[j]) * self.inv_std[j];
                    hrow[j] = h;
                    zrow[j] = self.gamma.value[j] * h + self.beta.value[j];
                }
            }
        } else {
            for j in 0..w {
                self.inv_std[j] = 1.0 / (self.running_var[j] + BN_EPS).sqrt();
            }
            for zrow in z.chunks_exact_mut(w) {
                for j in 0..w {
                    let h = (zrow[j] - self.running_mean[j]) * self.inv_std[j];
                    zrow[j] = self.gamma.value[j] * h + self.beta.value[j];
                }
            }
        }
    }

    /// Turns the output gradient `g` into the input gradient in place, and (unless the
    /// parameters are frozen) writes the gamma and beta gradients.
    pub fn backward(&mut self, g: &mut [f32], n: usize) {
        let w = self.width;
        let g = &mut g[..n * w];
        if !self.used_batch_stats {
            for row in g.chunks_exact_mut(w) {
                for j in 0..w {
                    row[j] *= self.gamma.value[j] * self.inv_std[j];
                }
            }
            if !self.gamma.frozen {
                // Gradients of gamma/beta in eval mode are not needed by any schedule here:
                // a layer runs in eval mode during training only when it is frozen.
                self.gamma.grad.fill(0.0);
                self.beta.grad.fill(0.0);
            }
            return;
        }
        let mut sum_g = vec![0.0f32; w];
        let mut sum_g_xhat = vec![0.0f32; w];
        for (row, hrow) in g.chunks_exact(w).zip(self.x_hat.chunks_exact(w)) {
            for j in 0..w {
                sum_g[j] += row[j];
                sum_g_xhat[j] += row[j] * hrow[j];
            }
        }
        if !self.gamma.frozen {
            self.gamma.grad.copy_from_slice(&sum_g_xhat);
            self.beta.grad.copy_from_slice(&sum_g);
        }
        let inv_n = 1.0 / n as f32;
        let mean_g: Vec<f32> = sum_g.iter().map(|s| s * inv_n).collect();
        let mean_g_xhat: Vec<f32> = sum_g_xhat.iter().map(|s| s * inv_n).collect();
        let scale: Vec<f32> = (0..w)
            .map(|j| self.gamma.value[j] * self.inv_std[j])
            .collect();
        for (row, hrow) in g.chunks_exact_mut(w).zip(self.x_hat.chunks_exact(w)) {
            for j in 0..w {
                row[j] = scale[j] * (row[j] - mean_g[j] - hrow[j] * mean_g_xhat[j]);
            }
        }
    }

    /// Freezes gamma and beta; a frozen layer also runs with running statistics.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.gamma.frozen = frozen;
        self.beta.frozen = frozen;
    }

    pub(crate) fn params_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Param>) {
        out.push(&mut self.gamma);
        out.push(&mut self.beta);
    }

    pub(crate) fn named_tensors<'a>(&'a self, prefix: &str, out: &mut Vec<NamedTensor<'a>>) {
        out.push(named(prefix, "weight", &self.gamma));
        out.push(named(prefix, "bias", &self.beta));
        let w = self.width;
        out.push(NamedTensor {
            name: format!("{prefix}.running_mean"),
            shape: vec![w],
            values: &self.running_mean,
        });
        out.push(NamedTensor {
            name: format!("{prefix}.running_var"),
            shape: vec![w],
            values: &self.running_var,
        });
    }

    pub(crate) fn named_tensors_mut<'a>(
        &'a mut self,
        prefix: &str,
        out: &mut Vec<NamedTensorMut<'a>>,
    ) {
        let w = self.width;
        out.push(named_mut(prefix, "weight", &mut self.gamma));
        out.push(named_mut(prefix, "bias", &mut self.beta));
        out.push(NamedTensorMut {
            name: format!("{prefix}.running_mean"),
            shape: vec![w],
            values: &mut self.running_mean,
        });
        out.push(NamedTensorMut {
            name: format!("{prefix}.running_var"),
            shape: vec![w],
            values: &mut self.running_var,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_mode_normalises_and_moves_running_stats() {
        // torch: bn = nn.BatchNorm1d(1); bn(torch.tensor([[1.],[2.],[3.],[4.]]))
        // -> [-1.3416, -0.4472, 0.4472, 1.3416]; running_mean 0.25, running_var 0.9*1 + 0.1*1.6667 = 1.0667
        let mut bn = BatchNorm::new(1);
        let mut z = vec![1.0, 2.0, 3.0, 4.0];
        bn.forward(&mut z, 4, true);
        let expected = [-1.3416, -0.4472, 0.4472, 1.3416];
        for (a, b) in z.iter().zip(expected) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        assert!((bn.running_mean[0] - 0.25).abs() < 1e-6);
        assert!((bn.running_var[0] - 1.066_666_7).abs() < 1e-5);
    }

    #[test]
    fn eval_mode_uses_running_stats_and_leaves_them_alone() {
        let mut bn = BatchNorm::new(2);
        bn.running_mean = vec![1.0, -1.0];
        bn.running_var = vec![4.0, 0.25];
        let mut z = vec![3.0, 0.0];
        bn.forward(&mut z, 1, false);
        assert!((z[0] - 2.0 / (4.0f32 + BN_EPS).sqrt()).abs() < 1e-6);
        assert!((z[1] - 1.0 / (0.25f32 + BN_EPS).sqrt()).abs() < 1e-5);
        assert_eq!(bn.running_mean, vec![1.0, -1.0]);
        assert_eq!(bn.running_var, vec![4.0, 0.25]);
    }

    #[test]
    fn training_mode_gradient_matches_finite_differences() {
        let n = 5;
        let w = 3;
        let input: Vec<f32> = (0..n * w)
            .map(|i| ((i * 7 % 11) as f32) / 3.0 - 1.0)
            .collect();
        let upstream: Vec<f32> = (0..n * w)
            .map(|i| ((i * 5 % 7) as f32) / 2.0 - 1.5)
            .collect();
        let mut bn = BatchNorm::new(w);
        bn.gamma.value = vec![1.5, -0.5, 2.0];
        bn.beta.value = vec![0.1, 0.2, -0.3];
        let loss = |bn: &mut BatchNorm, x: &[f32]| -> f64 {
            let mut z = x.to_vec();
            bn.forward(&mut z, n, true);
            z.iter()
                .zip(&upstream)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum()
        };
        let mut z = input.clone();
        bn.forward(&mut z, n, true);
        let mut g = upstream.clone();
        bn.backward(&mut g, n);
        let h = 1e-2f32;
        for i in 0..n * w {
            let mut plus = input.clone();
            plus[i] += h;
            let mut minus = input.clone();
            minus[i] -= h;
            let numeric =
                (loss(&mut bn.clone(), &plus) - loss(&mut bn.clone(), &minus)) / (2.0 * h as f64);
            assert!(
                (numeric as f32 - g[i]).abs() < 2e-2,
                "dx[{i}]: {numeric} vs {}",
                g[i]
            );
        }
    }
}
