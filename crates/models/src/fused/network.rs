//! Encoders and decoders: a stack of [`Block`]s of which a contiguous range is active.

use std::ops::Range;

use rand::Rng;

use crate::architecture::dense_widths;
use crate::fused::layers::Block;
use crate::kernels::layout::{column_chunks, to_rows};
use crate::kernels::param::{NamedTensor, NamedTensorMut, Param};

/// A fully connected network. Only the blocks in `active` run, which is how the stacked
/// variant trains its outer layers first.
#[derive(Clone, Debug)]
pub struct Network {
    /// All blocks, input side first.
    pub blocks: Vec<Block>,
    active: Range<usize>,
}

impl Network {
    /// A network of the given blocks, all active.
    pub fn new(blocks: Vec<Block>) -> Self {
        let active = 0..blocks.len();
        Self { blocks, active }
    }

    /// Dense encoder `input -> w1 -> w2 -> out_dim` (SPEC: hidden `Linear(no bias)->BN->ReLU`,
    /// last `Linear` with bias), widths from [`dense_widths`].
    pub fn dense_encoder(input_dim: usize, out_dim: usize, rng: &mut impl Rng) -> Self {
        let [w0, w1, w2] = dense_widths(input_dim, out_dim);
        Self::new(vec![
            Block::hidden(w0, w1, rng),
            Block::hidden(w1, w2, rng),
            Block::affine(w2, out_dim, false, rng),
        ])
    }

    /// Dense decoder `latent -> w2 -> w1 -> output_dim` producing logits (the sigmoid is
    /// applied by the loss or by [`crate::Model::decode`]).
    pub fn dense_decoder(latent_dim: usize, output_dim: usize, rng: &mut impl Rng) -> Self {
        let [w0, w1, w2] = dense_widths(output_dim, latent_dim);
        Self::new(vec![
            Block::hidden(latent_dim, w2, rng),
            Block::hidden(w2, w1, rng),
            Block::affine(w1, w0, false, rng),
        ])
    }

    /// Shallow encoder `Linear(input, out_dim, bias) -> ReLU`.
    pub fn shallow_encoder(input_dim: usize, out_dim: usize, rng: &mut impl Rng) -> Self {
        Self::new(vec![Block::affine(input_dim, out_dim, true, rng)])
    }

    /// Shallow decoder `Linear(latent, output, bias)` producing logits.
    pub fn shallow_decoder(latent_dim: usize, output_dim: usize, rng: &mut impl Rng) -> Self {
        Self::new(vec![Block::affine(latent_dim, output_dim, false, rng)])
    }

    /// The active blocks.
    pub fn active(&self) -> Range<usize> {
        self.active.clone()
    }

    /// Runs only `range` from now on.
    pub fn set_active(&mut self, range: Range<usize>) {
        assert!(
            range.start < range.end && range.end <= self.blocks.len(),
            "bad active range {range:?}"
        );
        self.active = range;
    }

    /// Width of the active input.
    pub fn in_dim(&self) -> usize {
        self.blocks[self.active.start].in_dim()
    }

    /// Width of the active output.
    pub fn out_dim(&self) -> usize {
        self.blocks[self.active.end - 1].out_dim()
    }

    /// Number of trainable scalars of all blocks, active or not.
    pub fn param_count(&self) -> usize {
        self.blocks.iter().map(Block::param_count).sum()
    }

    /// Forward pass of the active blocks over the `n` columns of `x` (`[in_dim, n]`, one
    /// column per sample, see [`crate::kernels::layout`]); the output is `[out_dim, n]`.
    pub fn forward(&mut self, x: &[f32], n: usize, train: bool) -> &[f32] {
        let range = self.active.clone();
        for i in range.clone() {
            let (before, rest) = self.blocks.split_at_mut(i);
            let input = if i == range.start {
                x
            } else {
                before[i - 1].output()
            };
            rest[0].forward(input, n, train);
        }
        self.output()
    }

    /// Eval-mode forward pass over samples stored one per row (`[rows, in_dim]`), in chunks
    /// of [`crate::model::INFERENCE_CHUNK`] rows so memory stays flat; the result is
    /// one row per sample too, `[rows, out_dim]`.
    pub fn infer(&self, x: &[f32]) -> Vec<f32> {
        let (width, out_dim) = (self.in_dim(), self.out_dim());
        let mut out = Vec::with_capacity(x.len() / width * out_dim);
        for (columns, n) in column_chunks(x, width, crate::model::INFERENCE_CHUNK) {
            out.extend(to_rows(&self.forward_eval(&columns, n), out_dim, n));
        }
        out
    }

    /// Eval-mode forward pass of the active blocks over the `n` columns of `x`
    /// (`[in_dim, n]`), keeping nothing; the output is `[out_dim, n]`.
    pub fn forward_eval(&self, x: &[f32], n: usize) -> Vec<f32> {
        let mut range = self.active.clone();
        let first = range.next().expect("a network has an active block");
        let mut h = self.blocks[first].infer(x, n);
        for i in range {
            h = self.blocks[i].infer(&h, n);
        }
        h
    }

    /// Output of the last forward pass.
    pub fn output(&self) -> &[f32] {
        self.blocks[self.active.end - 1].output()
    }

    /// Backward pass of the active blocks given the last forward pass's input `x` and the
    /// output gradient (both one column per sample). Returns the input gradient when `need_input_grad`. Blocks that are
    /// frozen and have only frozen blocks before them are skipped entirely.
    pub fn backward(
        &mut self,
        x: &[f32],
        grad_out: &[f32],
        n: usize,
        need_input_grad: bool,
    ) -> Option<&[f32]> {
        let range = self.active.clone();
        for i in range.clone().rev() {
            let upstream_trainable = self.blocks[range.start..i].iter().any(|b| !b.is_frozen());
            if self.blocks[i].is_frozen() && !upstream_trainable && !need_input_grad {
                break;
            }
            let needs_input = if i == range.start {
                need_input_grad
            } else {
                true
            };
            let (before, rest) = self.blocks.split_at_mut(i);
            let (block, after) = rest.split_first_mut().expect("index in range");
            let input = if i == range.start {
                x
            } else {
                before[i - 1].output()
            };
            let grad = if i + 1 == range.end {
                grad_out
            } else {
                after[0].grad_input()
            };
            block.backward(input, grad, n, needs_input);
        }
        need_input_grad.then(|| self.blocks[range.start].grad_input())
    }

    pub(crate) fn params_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Param>) {
        for b in &mut self.blocks {
            b.params_mut(out);
        }
    }

    pub(crate) fn named_tensors<'a>(&'a self, prefix: &str, out: &mut Vec<NamedTensor<'a>>) {
        for (i, b) in self.blocks.iter().enumerate() {
            b.named_tensors(&format!("{prefix}.{i}"), out);
        }
    }

    pub(crate) fn named_tensors_mut<'a>(
        &'a mut self,
        prefix: &str,
        out: &mut Vec<NamedTensorMut<'a>>,
    ) {
        for (i, b) in self.blocks.iter_mut().enumerate() {
            b.named_tensors_mut(&format!("{prefix}.{i}"), out);
        }
    }
}
