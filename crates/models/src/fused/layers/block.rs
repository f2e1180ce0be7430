//! One fused network block: `Linear -> [BatchNorm] -> [ReLU]`, forward and backward.

use rand::Rng;

use super::relu::{mask_inactive, relu_in_place};
use super::{BatchNorm, Linear};
use crate::kernels::param::{NamedTensor, NamedTensorMut, Param};

/// A block of the networks in SPEC's table: hidden blocks are `Linear(no bias) -> BN -> ReLU`,
/// final encoder blocks `Linear(bias)`, the shallow encoder `Linear(bias) -> ReLU`, and the
/// decoder's final block `Linear(bias)` whose logits feed the sigmoid + BCE.
#[derive(Clone, Debug)]
pub struct Block {
    /// The linear map.
    pub linear: Linear,
    /// Batch normalisation after the linear map, if any.
    pub batch_norm: Option<BatchNorm>,
    /// Whether a ReLU follows.
    pub relu: bool,
    frozen: bool,
    /// Output of the last forward pass, `[out_dim, n]`.
    output: Vec<f32>,
    /// Scratch for the pre-activation gradient.
    grad_z: Vec<f32>,
    /// Input gradient of the last backward pass, `[in_dim, n]`.
    grad_input: Vec<f32>,
}

impl Block {
    /// A hidden block: `Linear(in, out, no bias) -> BatchNorm1d(out) -> ReLU`.
    pub fn hidden(in_dim: usize, out_dim: usize, rng: &mut impl Rng) -> Self {
        Self::new(
            Linear::new(in_dim, out_dim, false, rng),
            Some(BatchNorm::new(out_dim)),
            true,
        )
    }

    /// A plain `Linear(in, out, bias)`, optionally followed by a ReLU.
    pub fn affine(in_dim: usize, out_dim: usize, relu: bool, rng: &mut impl Rng) -> Self {
        Self::new(Linear::new(in_dim, out_dim, true, rng), None, relu)
    }

    fn new(linear: Linear, batch_norm: Option<BatchNorm>, relu: bool) -> Self {
        Self {
            linear,
            batch_norm,
            relu,
            frozen: false,
            output: Vec::new(),
            grad_z: Vec::new(),
            grad_input: Vec::new(),
        }
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.linear.in_dim
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.linear.out_dim
    }

    /// Number of trainable scalars.
    pub fn param_count(&self) -> usize {
        self.linear.param_count() + self.batch_norm.as_ref().map_or(0, BatchNorm::param_count)
    }

    /// Whether the block is frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Freezes the block: no gradients, no updates, BatchNorm in eval mode even in training.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
        self.linear.set_frozen(frozen);
        if let Some(bn) = &mut self.batch_norm {
            bn.set_frozen(frozen);
        }
    }

    /// Output of the last forward pass.
    pub fn output(&self) -> &[f32] {
        &self.output
    }

    /// Input gradient of the last backward pass that computed one.
    pub fn grad_input(&self) -> &[f32] {
        &self.grad_input
    }

    /// Forward pass over the `n` columns of `x` (`[in_dim, n]`, one column per sample);
    /// `train` selects BatchNorm's batch statistics (ignored while frozen). The result,
    /// `[out_dim, n]`, is kept for the backward pass.
    pub fn forward(&mut self, x: &[f32], n: usize, train: bool) -> &[f32] {
        let out_dim = self.out_dim();
        self.output.resize(n * out_dim, 0.0);
        self.linear.forward(x, n, &mut self.output);
        if let Some(bn) = &mut self.batch_norm {
            bn.forward(&mut self.output, n, train && !self.frozen, self.relu);
        } else if self.relu {
            relu_in_place(&mut self.output);
        }
        &self.output
    }

    /// Eval-mode forward pass over the `n` columns of `x` into a new `[out_dim, n]` buffer,
    /// keeping nothing: the same arithmetic as [`Block::forward`] with `train = false`.
    pub fn infer(&self, x: &[f32], n: usize) -> Vec<f32> {
        let mut out = vec![0.0; n * self.out_dim()];
        self.linear.forward(x, n, &mut out);
        if let Some(bn) = &self.batch_norm {
            bn.forward_eval(&mut out, n, self.relu);
        } else if self.relu {
            relu_in_place(&mut out);
        }
        out
    }

    /// Backward pass: `x` is the input of the last forward pass, `grad_out` the gradient of
    /// the block's output. Writes parameter gradients unless frozen, and the input gradient
    /// (see [`Block::grad_input`]) when `need_input_grad`.
    pub fn backward(&mut self, x: &[f32], grad_out: &[f32], n: usize, need_input_grad: bool) {
        let grad_out = &grad_out[..n * self.out_dim()];
        // The pre-activation gradient: through the ReLU and BatchNorm if there are any.
        let grad_z = if self.batch_norm.is_some() || self.relu {
            self.grad_z.clear();
            self.grad_z.extend_from_slice(grad_out);
            if let Some(bn) = &mut self.batch_norm {
                bn.backward(&mut self.grad_z, &self.output, n, self.relu);
            } else {
                mask_inactive(&mut self.grad_z, &self.output);
            }
            &self.grad_z
        } else {
            grad_out
        };
        if !self.frozen {
            self.linear.backward_params(x, grad_z, n);
        }
        if need_input_grad {
            self.grad_input.resize(n * self.linear.in_dim, 0.0);
            self.linear.backward_input(grad_z, n, &mut self.grad_input);
        }
    }

    pub(crate) fn params_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Param>) {
        self.linear.params_mut(out);
        if let Some(bn) = &mut self.batch_norm {
            bn.params_mut(out);
        }
    }

    pub(crate) fn named_tensors<'a>(&'a self, prefix: &str, out: &mut Vec<NamedTensor<'a>>) {
        self.linear.named_tensors(&format!("{prefix}.linear"), out);
        if let Some(bn) = &self.batch_norm {
            bn.named_tensors(&format!("{prefix}.bn"), out);
        }
    }

    pub(crate) fn named_tensors_mut<'a>(
        &'a mut self,
        prefix: &str,
        out: &mut Vec<NamedTensorMut<'a>>,
    ) {
        self.linear
            .named_tensors_mut(&format!("{prefix}.linear"), out);
        if let Some(bn) = &mut self.batch_norm {
            bn.named_tensors_mut(&format!("{prefix}.bn"), out);
        }
    }
}
