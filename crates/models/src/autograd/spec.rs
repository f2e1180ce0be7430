//! What the autograd backend's networks are made of, as data: the shape of each block
//! ([`BlockSpec`], [`ConvSpec`]) and the encoder's and decoder's blocks for a variant's
//! network kind (SPEC's network table). [`super::network`] builds candle modules from these
//! and [`super::ops::Stack`] the fused engine's blocks; neither is needed to describe them.

use crate::architecture::dense_widths;
use crate::variant::NetworkKind;

/// The shape of one block: `Linear -> [BatchNorm] -> [ReLU]`, or a convolution (with bias)
/// `-> [ReLU]` on the block's flat input read as square images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSpec {
    /// Input width.
    pub in_dim: usize,
    /// Output width.
    pub out_dim: usize,
    /// Hidden dense blocks: a bias-free linear map followed by BatchNorm.
    pub batch_norm: bool,
    /// Whether a ReLU follows.
    pub relu: bool,
    /// A convolution instead of the linear map.
    pub conv: Option<ConvSpec>,
}

/// A block's convolution: kernel 4, stride 2, padding 1, so that it halves the side of its
/// square input, or, transposed, doubles it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Side of the square input.
    pub side: usize,
    /// A transposed convolution.
    pub transposed: bool,
}

/// Kernel side of a [`ConvSpec`].
pub const KERNEL: usize = 4;

impl ConvSpec {
    /// Side of the square output.
    pub fn out_side(&self) -> usize {
        if self.transposed {
            2 * self.side
        } else {
            self.side / 2
        }
    }
}

impl BlockSpec {
    /// A hidden dense block: bias-free linear map, BatchNorm, ReLU.
    pub fn hidden(in_dim: usize, out_dim: usize) -> Self {
        Self {
            in_dim,
            out_dim,
            batch_norm: true,
            relu: true,
            conv: None,
        }
    }

    /// A convolution with bias, and a ReLU if `relu`.
    pub fn conv(conv: ConvSpec, relu: bool) -> Self {
        Self {
            in_dim: conv.in_channels * conv.side * conv.side,
            out_dim: conv.out_channels * conv.out_side() * conv.out_side(),
            batch_norm: false,
            relu,
            conv: Some(conv),
        }
    }

    /// A linear map with bias, and a ReLU if `relu`.
    pub fn affine(in_dim: usize, out_dim: usize, relu: bool) -> Self {
        Self {
            in_dim,
            out_dim,
            batch_norm: false,
            relu,
            conv: None,
        }
    }

    /// A multi-layer perceptron through `widths`: linear maps with biases, a ReLU after
    /// each but the last.
    pub fn mlp(widths: &[usize]) -> Vec<Self> {
        let last = widths.len().saturating_sub(2);
        (widths.windows(2).enumerate())
            .map(|(i, w)| Self::affine(w[0], w[1], i < last))
            .collect()
    }
}

/// The encoder's blocks (SPEC's network table): `input -> encoded_dim`.
pub fn encoder_spec(kind: NetworkKind, input_dim: usize, encoded_dim: usize) -> Vec<BlockSpec> {
    match kind {
        NetworkKind::Shallow => vec![BlockSpec::affine(input_dim, encoded_dim, true)],
        NetworkKind::Dense => {
            let [w0, w1, w2] = dense_widths(input_dim, encoded_dim);
            vec![
                BlockSpec::hidden(w0, w1),
                BlockSpec::hidden(w1, w2),
                BlockSpec::affine(w2, encoded_dim, false),
            ]
        }
    }
}

/// The decoder's blocks: `latent_dim -> output_dim` logits (the sigmoid is the loss's).
pub fn decoder_spec(kind: NetworkKind, latent_dim: usize, output_dim: usize) -> Vec<BlockSpec> {
    match kind {
        NetworkKind::Shallow => vec![BlockSpec::affine(latent_dim, output_dim, false)],
        NetworkKind::Dense => {
            let [w0, w1, w2] = dense_widths(output_dim, latent_dim);
            vec![
                BlockSpec::hidden(latent_dim, w2),
                BlockSpec::hidden(w2, w1),
                BlockSpec::affine(w1, w0, false),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_follow_the_network_table() {
        // SPEC: dense 1024-341-113-20 / 20-113-341-1024; VAE encoder 1024-512-256-40
        let widths = |s: &[BlockSpec]| {
            let mut w = vec![s[0].in_dim];
            w.extend(s.iter().map(|b| b.out_dim));
            w
        };
        assert_eq!(
            widths(&encoder_spec(NetworkKind::Dense, 1024, 20)),
            [1024, 341, 113, 20]
        );
        assert_eq!(
            widths(&decoder_spec(NetworkKind::Dense, 20, 1024)),
            [20, 113, 341, 1024]
        );
        assert_eq!(
            widths(&encoder_spec(NetworkKind::Dense, 1024, 40)),
            [1024, 512, 256, 40]
        );
        let shallow = encoder_spec(NetworkKind::Shallow, 1024, 2);
        assert_eq!(shallow, [BlockSpec::affine(1024, 2, true)]);
        let mlp = BlockSpec::mlp(&[2, 8, 8, 1]);
        let relus: Vec<bool> = mlp.iter().map(|b| b.relu).collect();
        assert_eq!(
            (mlp[2].in_dim, mlp[2].out_dim, relus),
            (8, 1, vec![true, true, false])
        );
        assert!(mlp.iter().all(|b| !b.batch_norm));
        let dense = decoder_spec(NetworkKind::Dense, 2, 1024);
        assert!(dense[0].batch_norm && dense[0].relu);
        assert!(!dense[2].batch_norm && !dense[2].relu);
    }
}
