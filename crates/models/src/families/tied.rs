//! The `tied` family: a dense autoencoder whose decoder computes with the encoder's weights,
//! transposed (decoder block `i` uses `W^T` of encoder block `depth - 1 - i`), keeping its
//! own biases and BatchNorm: half the weights of `vanilla`, reconstruction loss only.

use candle_nn::{VarBuilder, VarMap};

use crate::autograd::network::{Block, Network};
use crate::autograd::spec::BlockSpec;
use crate::families::prelude::*;

/// dense, the decoder's weights are the encoder's transposed.
pub fn variant() -> Variant {
    Variant::of_family(
        "tied",
        "dense, the decoder's weights are the encoder's transposed",
        &[],
    )
}

/// No prior, a deterministic latent, no settings.
pub static FAMILY: Family = Family {
    name: "tied",
    revision: 1,
    capabilities: Capabilities::NONE,
    settings: &[],
    build: |variant, latent_dim, input_dim, device, rng| {
        let parts = Parts::with_decoder(&FAMILY, variant, latent_dim, input_dim, device, rng, &transposed)?;
        Ok(Box::new(OneAdam::new(Tied { parts })))
    },
};

/// The decoder of blocks `spec` on the encoder's weights, transposed, in reverse order.
fn transposed(
    spec: &[BlockSpec],
    encoder: &Network,
    varmap: &VarMap,
    vb: VarBuilder,
    rng: &mut dyn RngCore,
) -> candle_core::Result<Network> {
    let weights = encoder.blocks().iter().rev().map(|b| b.weight().t());
    let blocks = (spec.iter().zip(weights).enumerate())
        .map(|(i, (&s, w))| Block::with_weight(s, w?, varmap, vb.pp(i.to_string()), rng))
        .collect::<candle_core::Result<_>>()?;
    Ok(Network::from_blocks(blocks))
}

/// The tied-weights autoencoder (trained by one Adam: [`OneAdam`]).
#[derive(Debug)]
struct Tied {
    parts: Parts,
}

impl FamilyModel for Tied {
    fn parts(&self) -> &Parts {
        &self.parts
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::model::Model;
    use crate::variant::NetworkKind;

    #[test]
    fn the_decoder_computes_with_the_encoders_weights_transposed() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let shallow = Variant {
            network: NetworkKind::Shallow,
            ..variant()
        };
        let model = Tied {
            parts: Parts::with_decoder(&FAMILY, &shallow, 1, 2, &Device::Cpu, &mut rng, &transposed)
                .unwrap(),
        };
        model
            .parts
            .set("encoder.0.linear.weight", &[1.0, -1.0])
            .unwrap();
        model.parts.set("encoder.0.linear.bias", &[0.0]).unwrap();
        model
            .parts
            .set("decoder.0.linear.bias", &[0.0, 0.0])
            .unwrap();
        // x = [1, 0]: e = relu(1 - 0) = 1; logits = W^T e = [1, -1]; BCE = softplus(-1) for
        // (logit 1, target 1) + softplus(-1) for (logit -1, target 0) = 2 ln(1 + e^-1)
        let x = model.parts.batch(&[1.0, 0.0]).unwrap();
        let terms = model
            .objective(&x, true, &mut rng)
            .unwrap()
            .terms()
            .unwrap();
        let expected = 2.0 * (1.0 + (-1f64).exp()).ln(); // 0.626523
        assert!((terms.recon - expected).abs() < 1e-6, "{}", terms.recon);
        assert!(terms.regularizers.is_empty());
        assert!(model
            .parts
            .set("decoder.0.linear.weight", &[0.0; 2])
            .is_err());
    }

    #[test]
    fn the_dense_network_has_half_the_weights() {
        // vanilla's 782,814 less the decoder's weights 20*113 + 113*341 + 341*1024 = 389,977
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let parts = Parts::with_decoder(&FAMILY, &variant(), 20, 1024, &Device::Cpu, &mut rng, &transposed);
        let model = Tied {
            parts: parts.unwrap(),
        };
        assert_eq!(model.network_param_count(), 782_814 - 389_977);
    }
}
