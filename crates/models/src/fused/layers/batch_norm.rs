//! `BatchNorm1d` with PyTorch's train/eval behaviour and running statistics.

use rayon::prelude::*;

use super::relu::mask_inactive;
use crate::architecture::{BN_EPS, BN_MOMENTUM};
use crate::kernels::param::{named, named_mut, NamedTensor, NamedTensorMut, Param};
use crate::kernels::simd::{self, multiversion};

/// Batch normalisation over the batch dimension of `[width, n]` activations (one column per
/// sample, see [`crate::kernels::layout`]).
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

    /// Normalises `z` (`[width, n]`, one column per sample) in place, followed by a ReLU when
    /// `relu`; `batch_stats` selects training-mode behaviour. Features are spread over the
    /// rayon pool; each is computed alone, so the split cannot change the result.
    pub fn forward(&mut self, z: &mut [f32], n: usize, batch_stats: bool, relu: bool) {
        let w = self.width;
        let z = &mut z[..n * w];
        self.used_batch_stats = batch_stats;
        let gamma_beta = self.gamma.value.par_iter().zip(&self.beta.value);
        if batch_stats {
            self.x_hat.resize(n * w, 0.0);
            z.par_chunks_mut(n)
                .zip(self.x_hat.par_chunks_mut(n))
                .zip(gamma_beta)
                .zip(self.inv_std.par_iter_mut())
                .zip(self.running_mean.par_iter_mut().zip(&mut self.running_var))
                .with_min_len(FEATURES_PER_TASK)
                .for_each(|((((row, x_hat), (&g, &b)), inv_std), (rm, rv))| {
                    let stats = normalise_batch(row, x_hat, g, b, relu);
                    *inv_std = stats.inv_std;
                    let unbias = if n > 1 {
                        n as f32 / (n as f32 - 1.0)
                    } else {
                        1.0
                    };
                    *rm = (1.0 - BN_MOMENTUM) * *rm + BN_MOMENTUM * stats.mean;
                    *rv = (1.0 - BN_MOMENTUM) * *rv + BN_MOMENTUM * stats.biased_var * unbias;
                });
        } else {
            // Kept for the backward pass of a frozen block, which runs in eval mode.
            for (inv_std, &rv) in self.inv_std.iter_mut().zip(&self.running_var) {
                *inv_std = eval_inv_std(rv);
            }
            self.forward_eval(z, n, relu);
        }
    }

    /// Eval-mode normalisation of `z` (`[width, n]`) in place with the running statistics,
    /// followed by a ReLU when `relu`; nothing is kept, so inference can share the layer.
    pub fn forward_eval(&self, z: &mut [f32], n: usize, relu: bool) {
        z[..n * self.width]
            .par_chunks_mut(n)
            .zip(self.gamma.value.par_iter().zip(&self.beta.value))
            .zip(self.running_mean.par_iter().zip(&self.running_var))
            .with_min_len(FEATURES_PER_TASK)
            .for_each(|((row, (&g, &b)), (&rm, &rv))| {
                let scale = g * eval_inv_std(rv);
                affine(row, scale, b - rm * scale, relu);
            });
    }

    /// Turns the gradient `g` of the output `out` of the last forward pass into the input
    /// gradient in place (through the ReLU first when `relu`), and (unless the parameters are
    /// frozen) writes the gamma and beta gradients.
    pub fn backward(&mut self, g: &mut [f32], out: &[f32], n: usize, relu: bool) {
        let w = self.width;
        let g = &mut g[..n * w];
        if relu {
            mask_inactive(g, &out[..n * w]);
        }
        let trainable = !self.gamma.frozen;
        if !self.used_batch_stats {
            g.par_chunks_mut(n)
                .zip(self.gamma.value.par_iter().zip(&self.inv_std))
                .with_min_len(FEATURES_PER_TASK)
                .for_each(|(row, (&gamma, &inv_std))| scale(row, gamma * inv_std));
            if trainable {
                // Gradients of gamma/beta in eval mode are not needed by any schedule here:
                // a layer runs in eval mode during training only when it is frozen.
                self.gamma.grad.fill(0.0);
                self.beta.grad.fill(0.0);
            }
            return;
        }
        g.par_chunks_mut(n)
            .zip(self.x_hat.par_chunks(n))
            .zip(self.gamma.value.par_iter().zip(&self.inv_std))
            .zip(self.gamma.grad.par_iter_mut().zip(&mut self.beta.grad))
            .with_min_len(FEATURES_PER_TASK)
            .for_each(|(((row, x_hat), (&gamma, &inv_std)), (dgamma, dbeta))| {
                let (sum_g, sum_g_xhat) = batch_backward(row, x_hat, gamma * inv_std);
                if trainable {
                    *dgamma = sum_g_xhat;
                    *dbeta = sum_g;
                }
            });
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

/// `1/sqrt(running_var + eps)`, the eval-mode scale before gamma.
fn eval_inv_std(running_var: f32) -> f32 {
    1.0 / (running_var + BN_EPS).sqrt()
}

/// Features per parallel work item: a few thousand values, enough to amortise scheduling.
const FEATURES_PER_TASK: usize = 16;

/// What the training-mode forward pass learns about one feature.
struct FeatureStats {
    mean: f32,
    biased_var: f32,
    inv_std: f32,
}

multiversion! {
    /// Training-mode normalisation of one feature's row: batch mean and biased variance,
    /// `x_hat`, then `gamma * x_hat + beta` (and the ReLU) in place.
    fn normalise_batch(row: &mut [f32], x_hat: &mut [f32], gamma: f32, beta: f32, relu: bool) -> FeatureStats {
        let n = row.len() as f32;
        let mean = simd::sum(row) / n;
        let biased_var = simd::sum_map(row, |v| (v - mean) * (v - mean)) / n;
        let inv_std = 1.0 / (biased_var + BN_EPS).sqrt();
        for (v, h) in row.iter_mut().zip(x_hat.iter_mut()) {
            *h = (*v - mean) * inv_std;
            let y = gamma * *h + beta;
            *v = if relu { y.max(0.0) } else { y };
        }
        FeatureStats { mean, biased_var, inv_std }
    }
}

multiversion! {
    /// `row = row * scale + shift`, then the ReLU when `relu`.
    fn affine(row: &mut [f32], scale: f32, shift: f32, relu: bool) {
        for v in row.iter_mut() {
            let y = *v * scale + shift;
            *v = if relu { y.max(0.0) } else { y };
        }
    }
}

multiversion! {
    /// `row *= factor`.
    fn scale(row: &mut [f32], factor: f32) {
        row.iter_mut().for_each(|v| *v *= factor);
    }
}

multiversion! {
    /// Training-mode backward pass of one feature: `g` becomes the input gradient
    /// `scale * (g - mean(g) - x_hat * mean(g * x_hat))`; returns `(sum g, sum g * x_hat)`,
    /// the beta and gamma gradients.
    fn batch_backward(g: &mut [f32], x_hat: &[f32], scale: f32) -> (f32, f32) {
        let inv_n = 1.0 / g.len() as f32;
        let sum_g = simd::sum(g);
        let sum_g_xhat = simd::sum_zip(g, x_hat, |a, b| a * b);
        let (mean_g, mean_g_xhat) = (sum_g * inv_n, sum_g_xhat * inv_n);
        for (v, &h) in g.iter_mut().zip(x_hat) {
            *v = scale * (*v - mean_g - h * mean_g_xhat);
        }
        (sum_g, sum_g_xhat)
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
        bn.forward(&mut z, 4, true, false);
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
        bn.forward(&mut z, 1, false, false);
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
            bn.forward(&mut z, n, true, false);
            z.iter()
                .zip(&upstream)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum()
        };
        let mut z = input.clone();
        bn.forward(&mut z, n, true, false);
        let mut g = upstream.clone();
        bn.backward(&mut g, &z, n, false);
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
