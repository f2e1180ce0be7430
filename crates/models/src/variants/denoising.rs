//! The `denoising` variant: dense, trained on inputs with Gaussian noise (sd 0.5, clipped).

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// dense, trained on inputs with Gaussian noise (sd 0.5, clipped).
pub fn variant() -> Variant {
    Variant {
        name: "denoising".into(),
        description: "dense, trained on inputs with Gaussian noise (sd 0.5, clipped)".into(),
        network: NetworkKind::Dense,
        bottleneck: BottleneckKind::Identity,
        schedule: Schedule::Joint,
        input_noise: Some(0.5),
        family: None,
    }
}
