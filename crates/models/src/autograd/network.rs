//! Fully connected encoders and decoders as candle-nn modules, built from a variant's
//! network kind: parameters named as the fused engine names them (`encoder.0.linear.weight`,
//! `encoder.0.bn.running_mean`) and drawn with PyTorch's initialisation from the host RNG.
//! A block can also be a convolution on its flat input read as square images (the `conv`
//! family), named `encoder.0.conv.weight`.

use std::ops::Range;

use candle_core::{Device, Result, Tensor, Var};
use candle_nn::{BatchNorm, BatchNormConfig, Linear, ModuleT, VarBuilder, VarMap};
use rand::RngCore;

use super::spec::{BlockSpec, ConvSpec, KERNEL};
use crate::architecture::{BN_EPS, BN_MOMENTUM};
use crate::kernels::noise;

/// Adds a variable `name` drawn from U(-bound, bound) on the host to `varmap` and returns
/// its tensor.
pub fn uniform_var(
    varmap: &VarMap,
    name: &str,
    shape: &[usize],
    bound: f32,
    device: &Device,
    rng: &mut dyn RngCore,
) -> Result<Tensor> {
    let values = noise::uniform(shape.iter().product(), bound, rng);
    let var = Var::from_tensor(&Tensor::from_vec(values, shape, device)?)?;
    let tensor = var.as_tensor().clone();
    varmap
        .data()
        .lock()
        .expect("no thread panics while holding the var map")
        .insert(name.to_string(), var);
    Ok(tensor)
}

/// One block as a candle-nn module.
#[derive(Clone, Debug)]
pub struct Block {
    linear: Linear,
    /// For a convolution block: its convolution (`linear` then holds its kernel and bias).
    conv: Option<ConvSpec>,
    batch_norm: Option<BatchNorm>,
    relu: bool,
}

impl Block {
    /// Builds the block under `vb`'s prefix: `linear.weight` (and `linear.bias` unless
    /// BatchNorm follows) from U(-1/sqrt(in), 1/sqrt(in)), weight first, as `nn.Linear`;
    /// `bn.*` with gamma 1, beta 0, running mean 0, running variance 1.
    pub fn new(
        spec: BlockSpec,
        varmap: &VarMap,
        vb: VarBuilder,
        rng: &mut dyn RngCore,
    ) -> Result<Self> {
        if let Some(conv) = spec.conv {
            return Self::convolution(spec, conv, varmap, vb, rng);
        }
        let bound = 1.0 / (spec.in_dim as f32).sqrt();
        let name = format!("{}.linear.weight", vb.prefix());
        let shape = [spec.out_dim, spec.in_dim];
        let weight = uniform_var(varmap, &name, &shape, bound, vb.device(), rng)?;
        Self::with_weight(spec, weight, varmap, vb, rng)
    }

    /// Builds the block around a given linear weight (`[out_dim, in_dim]`; a tied decoder
    /// passes the transpose of an encoder block's), drawing only the bias, as [`Block::new`]
    /// draws it, and adding BatchNorm.
    pub fn with_weight(
        spec: BlockSpec,
        weight: Tensor,
        varmap: &VarMap,
        vb: VarBuilder,
        rng: &mut dyn RngCore,
    ) -> Result<Self> {
        let bound = 1.0 / (spec.in_dim as f32).sqrt();
        let (name, shape) = (format!("{}.linear.bias", vb.prefix()), [spec.out_dim]);
        let bias = if spec.batch_norm {
            None
        } else {
            Some(uniform_var(varmap, &name, &shape, bound, vb.device(), rng)?)
        };
        let batch_norm = if spec.batch_norm {
            let config = BatchNormConfig {
                eps: f64::from(BN_EPS),
                remove_mean: true,
                affine: true,
                momentum: f64::from(BN_MOMENTUM),
            };
            Some(candle_nn::batch_norm(spec.out_dim, config, vb.pp("bn"))?)
        } else {
            None
        };
        Ok(Self {
            linear: Linear::new(weight, bias),
            conv: None,
            batch_norm,
            relu: spec.relu,
        })
    }

    /// A convolution block under `vb`'s prefix: `conv.weight` (`[out, in, 4, 4]`, transposed:
    /// `[in, out, 4, 4]`) and `conv.bias` from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch's
    /// `nn.Conv2d` and `nn.ConvTranspose2d` draw them (fan_in: the weight's second dimension
    /// times 16).
    fn convolution(
        spec: BlockSpec,
        conv: ConvSpec,
        varmap: &VarMap,
        vb: VarBuilder,
        rng: &mut dyn RngCore,
    ) -> Result<Self> {
        let (a, b) = (conv.in_channels, conv.out_channels);
        let shape = if conv.transposed { [a, b] } else { [b, a] };
        let bound = 1.0 / ((shape[1] * KERNEL * KERNEL) as f32).sqrt();
        let (dev, prefix) = (vb.device(), vb.prefix());
        let weight_shape = [shape[0], shape[1], KERNEL, KERNEL];
        let name = format!("{prefix}.conv.weight");
        let weight = uniform_var(varmap, &name, &weight_shape, bound, dev, rng)?;
        let name = format!("{prefix}.conv.bias");
        let bias = uniform_var(varmap, &name, &[b], bound, dev, rng)?;
        Ok(Self {
            linear: Linear::new(weight, Some(bias)),
            conv: Some(conv),
            batch_norm: None,
            relu: spec.relu,
        })
    }

    /// The linear map `x·Wᵀ + b` as one graph node ([`super::ops::linear`]), or the block's
    /// convolution on `x`'s rows read as `[channels, side, side]` images, flattened again.
    fn affine(&self, x: &Tensor) -> Result<Tensor> {
        let Some(c) = self.conv else {
            return super::ops::linear(x, self.linear.weight(), self.linear.bias());
        };
        let n = x.dim(0)?;
        let images = x.reshape((n, c.in_channels, c.side, c.side))?;
        let (weight, bias) = (self.linear.weight(), self.linear.bias());
        let out = if c.transposed {
            images.conv_transpose2d(weight, 1, 0, 2, 1)?
        } else {
            images.conv2d(weight, 1, 2, 1, 1)?
        };
        let bias = bias.expect("convolution blocks have a bias");
        let out = out.broadcast_add(&bias.reshape((1, c.out_channels, 1, 1))?)?;
        out.reshape((n, ()))
    }

    /// The linear map's weight, `[out_dim, in_dim]`.
    pub fn weight(&self) -> &Tensor {
        self.linear.weight()
    }

    /// The block's output and its slope: the derivative of each output with respect to the
    /// linear map's output (`[n, out_dim]`), with BatchNorm's statistics held fixed (the
    /// batch's in training, as [`ModuleT::forward_t`] normalises with them; the running ones
    /// otherwise). Locally the block is `slope * (W x) + c`, so a network's Jacobian is the
    /// product of `diag(slope) W` over its blocks. ReLU's slope at 0 is 0, as in PyTorch.
    pub fn forward_with_slope(&self, x: &Tensor, train: bool) -> Result<(Tensor, Tensor)> {
        let h = self.affine(x)?;
        let mut slope = h.ones_like()?;
        let mut out = h.clone();
        if let Some(bn) = &self.batch_norm {
            let var = if train {
                // The biased batch variance BatchNorm normalises with.
                h.broadcast_sub(&h.mean_keepdim(0)?)?.sqr()?.mean(0)?
            } else {
                bn.running_var().clone()
            };
            let (gamma, _) = bn.weight_and_bias().expect("blocks build affine BatchNorm");
            let scale = (gamma / (var + f64::from(BN_EPS))?.sqrt()?)?;
            slope = slope.broadcast_mul(&scale)?;
            out = bn.forward_t(&h, train)?;
        }
        if self.relu {
            out = out.relu()?;
            slope = (slope * out.gt(0f32)?.to_dtype(out.dtype())?)?;
        }
        Ok((out, slope))
    }
}

impl ModuleT for Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut h = self.affine(x)?;
        if let (Some(bn), true, true) = (&self.batch_norm, train, self.relu) {
            return super::ops::batch_norm_relu(&h, bn, BN_EPS, BN_MOMENTUM);
        }
        if let Some(bn) = &self.batch_norm {
            h = bn.forward_t(&h, train)?;
        }
        if self.relu {
            h = h.relu()?;
        }
        Ok(h)
    }
}

/// A stack of blocks, of which a contiguous range runs (the stacked variant's stages).
#[derive(Clone, Debug)]
pub struct Network {
    blocks: Vec<Block>,
}

impl Network {
    /// Builds the blocks of `spec` under `prefix` (`prefix.0`, `prefix.1`, ...), drawing
    /// their weights in order.
    pub fn new(
        spec: &[BlockSpec],
        varmap: &VarMap,
        vb: VarBuilder,
        rng: &mut dyn RngCore,
    ) -> Result<Self> {
        let blocks = spec
            .iter()
            .enumerate()
            .map(|(i, &s)| Block::new(s, varmap, vb.pp(i.to_string()), rng))
            .collect::<Result<_>>()?;
        Ok(Self { blocks })
    }

    /// A network of the given blocks.
    pub fn from_blocks(blocks: Vec<Block>) -> Self {
        Self { blocks }
    }

    /// Number of blocks.
    pub fn depth(&self) -> usize {
        self.blocks.len()
    }

    /// The blocks, input side first.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The output of every block in turn and each block's slope (see
    /// [`Block::forward_with_slope`]).
    pub fn forward_with_slopes(&self, x: &Tensor, train: bool) -> Result<(Tensor, Vec<Tensor>)> {
        let mut h = x.clone();
        let mut slopes = Vec::with_capacity(self.depth());
        for block in &self.blocks {
            let (out, slope) = block.forward_with_slope(&h, train)?;
            slopes.push(slope);
            h = out;
        }
        Ok((h, slopes))
    }

    /// Runs the blocks in `active`. In training (`train`), only blocks for which `trainable`
    /// holds use batch statistics; the others run on running statistics, and the output of
    /// frozen blocks before the first trainable one is detached (nothing there learns).
    pub fn forward_range(
        &self,
        x: &Tensor,
        active: Range<usize>,
        train: bool,
        trainable: &dyn Fn(usize) -> bool,
    ) -> Result<Tensor> {
        let mut h = x.clone();
        let mut seen_trainable = false;
        for i in active {
            let learns = train && trainable(i);
            seen_trainable |= learns;
            h = self.blocks[i].forward_t(&h, learns)?;
            if train && !seen_trainable {
                h = h.detach();
            }
        }
        Ok(h)
    }
}

impl ModuleT for Network {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_range(x, 0..self.depth(), train, &|_| true)
    }
}
