//! The `vae` variant: dense variational autoencoder (beta = 1).

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// dense variational autoencoder (beta = 1).
pub fn variant() -> Variant {
    Variant {
        name: "vae".into(),
        description: "dense variational autoencoder (beta = 1)".into(),
        network: NetworkKind::Dense,
        bottleneck: BottleneckKind::Variational { beta: 1.0 },
        schedule: Schedule::Joint,
        input_noise: None,
        family: None,
    }
}
