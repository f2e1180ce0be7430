//! The `beta_vae_loose` variant: dense beta-VAE with beta = 0.5.

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// dense beta-VAE with beta = 0.5.
pub fn variant() -> Variant {
    Variant {
        name: "beta_vae_loose".into(),
        description: "dense beta-VAE with beta = 0.5".into(),
        network: NetworkKind::Dense,
        bottleneck: BottleneckKind::Variational { beta: 0.5 },
        schedule: Schedule::Joint,
        input_noise: None,
        family: None,
    }
}
