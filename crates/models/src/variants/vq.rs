//! The `vq` variant: dense, vector-quantised latent (512 scalar codes per dimension, beta = 1).

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// dense, vector-quantised latent (512 scalar codes per dimension, beta = 1).
pub fn variant() -> Variant {
    Variant {
        name: "vq".into(),
        description: "dense, vector-quantised latent (512 scalar codes per dimension, beta = 1)".into(),
        network: NetworkKind::Dense,
        bottleneck: BottleneckKind::VectorQuantized { num_codes: 512, beta: 1.0 },
        schedule: Schedule::Joint,
        input_noise: None,
        family: None,
    }
}
