//! Fully connected layer `y = x·Wᵀ + b` with PyTorch's default initialisation.

use rand::Rng;

use crate::matmul::{matmul_a_b, matmul_a_bt, matmul_at_b};
use crate::param::{named, named_mut, NamedTensor, NamedTensorMut, Param};

/// `nn.Linear(in_dim, out_dim, bias)`: weight `[out, in]`, optional bias `[out]`.
#[derive(Clone, Debug)]
pub struct Linear {
    /// Weight, `[out_dim, in_dim]`.
    pub weight: Param,
    /// Bias, `[out_dim]`, if the layer has one.
    pub bias: Option<Param>,
    /// Input width.
    pub in_dim: usize,
    /// Output width.
    pub out_dim: usize,
}

impl Linear {
    /// A layer initialised as PyTorch does: weights and bias from U(-1/sqrt(in), 1/sqrt(in)).
    pub fn new(in_dim: usize, out_dim: usize, bias: bool, rng: &mut impl Rng) -> Self {
        let bound = 1.0 / (in_dim as f32).sqrt();
        let weight = Param::uniform(vec![out_dim, in_dim], bound, rng);
        let bias = bias.then(|| Param::uniform(vec![out_dim], bound, rng));
        Self {
            weight,
            bias,
            in_dim,
            out_dim,
        }
    }

    /// Number of scalars (weights plus bias).
    pub fn param_count(&self) -> usize {
        self.weight.len() + self.bias.as_ref().map_or(0, Param::len)
    }

    /// `out[n, out_dim] = x[n, in_dim]·Wᵀ + b`.
    pub fn forward(&self, x: &[f32], n: usize, out: &mut [f32]) {
        matmul_a_bt(
            out,
            x,
            &self.weight.value,
            n,
            self.in_dim,
            self.out_dim,
            false,
        );
        if let Some(bias) = &self.bias {
            for row in out[..n * self.out_dim].chunks_exact_mut(self.out_dim) {
                for (o, b) in row.iter_mut().zip(&bias.value) {
                    *o += b;
                }
            }
        }
    }

    /// Weight and bias gradients from the output gradient `dz` and the layer input `x`.
    pub fn backward_params(&mut self, x: &[f32], dz: &[f32], n: usize) {
        matmul_at_b(
            &mut self.weight.grad,
            dz,
            x,
            self.out_dim,
            n,
            self.in_dim,
            false,
        );
        if let Some(bias) = &mut self.bias {
            bias.grad.fill(0.0);
            for row in dz[..n * self.out_dim].chunks_exact(self.out_dim) {
                for (g, d) in bias.grad.iter_mut().zip(row) {
                    *g += d;
                }
            }
        }
    }

    /// Input gradient `dx[n, in_dim] = dz·W`.
    pub fn backward_input(&self, dz: &[f32], n: usize, dx: &mut [f32]) {
        matmul_a_b(
            dx,
            dz,
            &self.weight.value,
            n,
            self.out_dim,
            self.in_dim,
            false,
        );
    }

    /// Marks weight and bias frozen or trainable.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.weight.frozen = frozen;
        if let Some(bias) = &mut self.bias {
            bias.frozen = frozen;
        }
    }

    pub(crate) fn params_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Param>) {
        out.push(&mut self.weight);
        if let Some(bias) = &mut self.bias {
            out.push(bias);
        }
    }

    pub(crate) fn named_tensors<'a>(&'a self, prefix: &str, out: &mut Vec<NamedTensor<'a>>) {
        out.push(named(prefix, "weight", &self.weight));
        if let Some(bias) = &self.bias {
            out.push(named(prefix, "bias", bias));
        }
    }

    pub(crate) fn named_tensors_mut<'a>(
        &'a mut self,
        prefix: &str,
        out: &mut Vec<NamedTensorMut<'a>>,
    ) {
        out.push(named_mut(prefix, "weight", &mut self.weight));
        if let Some(bias) = &mut self.bias {
            out.push(named_mut(prefix, "bias", bias));
        }
    }
}
