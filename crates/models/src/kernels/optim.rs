//! Adam, updating parameters in place (PyTorch's `torch.optim.Adam`, no weight decay).

use rayon::prelude::*;

use crate::kernels::param::Param;
use crate::kernels::simd::multiversion;

/// One parallel work item: slices of the values, gradients, first and second moments.
type AdamChunk<'a> = (((&'a mut [f32], &'a [f32]), &'a mut [f32]), &'a mut [f32]);

/// Elements per parallel work item of an update: large enough to amortise scheduling.
const PARALLEL_CHUNK: usize = 1 << 14;

/// Adam's hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator guard.
    pub eps: f32,
}

impl Default for AdamConfig {
    /// PyTorch's defaults with the study's learning rate 1e-3.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam with its moment estimates, keyed by the position of each parameter in the list
/// passed to [`Adam::step`] (which must therefore always be listed in the same order).
#[derive(Clone, Debug)]
pub struct Adam {
    config: AdamConfig,
    steps: i32,
    moments: Vec<(Vec<f32>, Vec<f32>)>,
}

impl Adam {
    /// A fresh optimizer.
    pub fn new(config: AdamConfig) -> Self {
        Self {
            config,
            steps: 0,
            moments: Vec::new(),
        }
    }

    /// Sets the learning rate of the following steps (a decay schedule), keeping the moment
    /// estimates and the step count.
    pub fn set_learning_rate(&mut self, lr: f32) {
        self.config.lr = lr;
    }

    /// One update of every parameter that is not frozen, from its current gradient.
    pub fn step(&mut self, params: &mut [&mut Param]) {
        self.steps += 1;
        let AdamConfig {
            lr,
            beta1,
            beta2,
            eps,
        } = self.config;
        let bias1 = 1.0 - beta1.powi(self.steps);
        let bias2_sqrt = (1.0 - beta2.powi(self.steps)).sqrt();
        let step_size = lr / bias1;
        if self.moments.len() < params.len() {
            self.moments
                .resize_with(params.len(), || (Vec::new(), Vec::new()));
        }
        for (p, (m, v)) in params.iter_mut().zip(&mut self.moments) {
            if p.frozen {
                continue;
            }
            if m.is_empty() {
                *m = vec![0.0; p.len()];
                *v = vec![0.0; p.len()];
            }
            // Same arithmetic as torch.optim.Adam (single-tensor path):
            // denom = sqrt(v) / sqrt(1 - beta2^t) + eps; p -= lr / (1 - beta1^t) * m / denom
            // Elementwise, so splitting it over threads cannot change the result.
            let constants = [beta1, beta2, bias2_sqrt, eps, step_size];
            let update = |(((w, g), m), v): AdamChunk<'_>| update_chunk(w, g, m, v, constants);
            p.value
                .par_chunks_mut(PARALLEL_CHUNK)
                .zip(p.grad.par_chunks(PARALLEL_CHUNK))
                .zip(m.par_chunks_mut(PARALLEL_CHUNK))
                .zip(v.par_chunks_mut(PARALLEL_CHUNK))
                .for_each(update);
        }
    }
}

multiversion! {
    /// Adam's element-wise update of one chunk; `constants` are `beta1`, `beta2`,
    /// `sqrt(1 - beta2^t)`, `eps` and `lr / (1 - beta1^t)`.
    pub(crate) fn update_chunk(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], constants: [f32; 5]) {
        let [beta1, beta2, bias2_sqrt, eps, step_size] = constants;
        for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = beta1 * *m + (1.0 - beta1) * g;
            *v = beta2 * *v + (1.0 - beta2) * g * g;
            let denom = v.sqrt() / bias2_sqrt + eps;
            *w -= step_size * *m / denom;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_weight_by_lr_against_its_gradient_sign() {
        // torch: p = torch.tensor([1., -2.], requires_grad=True); opt = Adam([p], lr=0.1)
        // p.grad = torch.tensor([0.5, -3.]); opt.step() -> p = [0.9, -1.9]
        let mut p = Param::new(vec![1.0, -2.0], vec![2]);
        p.grad = vec![0.5, -3.0];
        let mut adam = Adam::new(AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        });
        adam.step(&mut [&mut p]);
        assert!((p.value[0] - 0.9).abs() < 1e-6);
        assert!((p.value[1] + 1.9).abs() < 1e-6);
    }

    #[test]
    fn second_step_matches_hand_computation() {
        // g1 = 1, g2 = 0.5, lr 0.1: m2 = 0.09*... computed as torch does:
        // m1=0.1, v1=0.001; m2=0.09+0.05=0.14, v2=0.000999+0.00025=0.001249
        // step2 = 0.1/(1-0.81) * 0.14 / (sqrt(0.001249)/sqrt(1-0.998001) + 1e-8)
        let mut p = Param::new(vec![0.0], vec![1]);
        let mut adam = Adam::new(AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        });
        p.grad = vec![1.0];
        adam.step(&mut [&mut p]);
        p.grad = vec![0.5];
        adam.step(&mut [&mut p]);
        let step2 =
            0.1 / (1.0 - 0.81) * 0.14 / ((0.001249f64).sqrt() / (1.0 - 0.998001f64).sqrt() + 1e-8);
        let expected = -0.1 - step2;
        assert!(
            (p.value[0] as f64 - expected).abs() < 1e-5,
            "{} vs {expected}",
            p.value[0]
        );
    }

    #[test]
    fn a_new_learning_rate_scales_the_next_step() {
        // Adam's first step moves by lr whatever the gradient; after setting lr 0.05 the
        // second step of a constant gradient moves by 0.05 too (m / sqrt(v) stays 1 after
        // bias correction): 1 - 0.1 - 0.05.
        let mut p = Param::new(vec![1.0], vec![1]);
        let mut adam = Adam::new(AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        });
        p.grad = vec![2.0];
        adam.step(&mut [&mut p]);
        adam.set_learning_rate(0.05);
        adam.step(&mut [&mut p]);
        assert!((p.value[0] - 0.85).abs() < 1e-6, "{}", p.value[0]);
    }

    #[test]
    fn frozen_parameters_do_not_move() {
        let mut p = Param::new(vec![1.0], vec![1]);
        p.grad = vec![1.0];
        p.frozen = true;
        Adam::new(AdamConfig::default()).step(&mut [&mut p]);
        assert_eq!(p.value, vec![1.0]);
    }
}
