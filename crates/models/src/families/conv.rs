//! The `conv` family (Masci et al. 2011, the convolutional autoencoder): the 32 x 32 input
//! through three convolutions (kernel 4, stride 2, padding 1, ReLU) of 48, 96 and 192
//! channels down to 192 x 4 x 4, a linear map to the latent code; back through a linear map
//! (ReLU) to 192 x 4 x 4 and three transposed convolutions to 96, 48 and 1 channel, the last
//! giving the logits. 865,269 parameters (the dense nine's vanilla: 782,814); identity
//! bottleneck, reconstruction loss only.

use crate::autograd::spec::{BlockSpec, ConvSpec};
use crate::families::prelude::*;

/// convolutional encoder and decoder (48-96-192 channels), identity bottleneck.
pub fn variant() -> Variant {
    let description = "convolutional encoder and decoder (48-96-192 channels), identity bottleneck";
    Variant::of_family("conv", description, &[])
}

/// No prior, a deterministic latent, no settings.
pub static FAMILY: Family = Family {
    name: "conv",
    revision: 1,
    capabilities: Capabilities::NONE,
    settings: &[],
    build: |variant, latent_dim, input_dim, device, rng| {
        let (encoder, decoder) = specs(latent_dim, input_dim)?;
        let dims = (latent_dim, input_dim);
        let parts = Parts::with_specs(&FAMILY, variant, dims, device, rng, &encoder, &decoder)?;
        Ok(Box::new(OneAdam::new(Conv { parts })))
    },
};

/// Channels after each of the encoder's convolutions.
const CHANNELS: [usize; 3] = [48, 96, 192];

/// The encoder's and the decoder's blocks for square images of `input_dim` pixels, whose side
/// must be a multiple of 8.
fn specs(latent_dim: usize, input_dim: usize) -> Result<(Vec<BlockSpec>, Vec<BlockSpec>)> {
    let side = (input_dim as f64).sqrt().round() as usize;
    if side * side != input_dim || !side.is_multiple_of(8) || side == 0 {
        return Err(ModelError::InvalidVariant(format!(
            "the conv family needs square images with a side divisible by 8, not {input_dim} pixels"
        )));
    }
    let conv = |in_channels, out_channels, side, transposed| {
        let spec = ConvSpec {
            in_channels,
            out_channels,
            side,
            transposed,
        };
        BlockSpec::conv(spec, !transposed || out_channels != 1)
    };
    let [a, b, c] = CHANNELS;
    let inner = c * (side / 8) * (side / 8);
    let encoder = vec![
        conv(1, a, side, false),
        conv(a, b, side / 2, false),
        conv(b, c, side / 4, false),
        BlockSpec::affine(inner, latent_dim, false),
    ];
    let decoder = vec![
        BlockSpec::affine(latent_dim, inner, true),
        conv(c, b, side / 8, true),
        conv(b, a, side / 4, true),
        conv(a, 1, side / 2, true),
    ];
    Ok((encoder, decoder))
}

/// The convolutional autoencoder (trained by one Adam: [`OneAdam`]).
#[derive(Debug)]
struct Conv {
    parts: Parts,
}

impl FamilyModel for Conv {
    fn parts(&self) -> &Parts {
        &self.parts
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn it_has_the_stated_parameters_and_rejects_other_image_sizes() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let model = (FAMILY.build)(&variant(), 20, 1024, &Device::Cpu, &mut rng).unwrap();
        // conv: 1*48*16 + 48, 48*96*16 + 96, 96*192*16 + 192; linear 3072*20 + 20;
        // linear 20*3072 + 3072; transposed: 192*96*16 + 96, 96*48*16 + 48, 48*1*16 + 1.
        assert_eq!(model.network_param_count(), 865_269);
        let codes = model.encode(&vec![0.5; 2 * 1024]).unwrap();
        assert_eq!(codes.len(), 2 * 20);
        assert_eq!(model.decode_logits(&codes).unwrap().len(), 2 * 1024);
        for pixels in [784, 1000] {
            let err = (FAMILY.build)(&variant(), 20, pixels, &Device::Cpu, &mut rng).unwrap_err();
            assert!(err.to_string().contains(&pixels.to_string()), "{err}");
        }
    }
}
