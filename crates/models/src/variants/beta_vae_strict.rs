//! The `beta_vae_strict` variant: dense beta-VAE with beta = 2.

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// dense beta-VAE with beta = 2.
pub fn variant() -> Variant {
    Variant {
        name: "beta_vae_strict".into(),
        description: "dense beta-VAE with beta = 2".into(),
        network: NetworkKind::Dense,
        bottleneck: BottleneckKind::Variational { beta: 2.0 },
        schedule: Schedule::Joint,
        input_noise: None,
        family: None,
    }
}
