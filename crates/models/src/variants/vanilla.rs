//! The `vanilla` variant: dense encoder and decoder, identity bottleneck.

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// dense encoder and decoder, identity bottleneck.
pub fn variant() -> Variant {
    Variant {
        name: "vanilla".into(),
        description: "dense encoder and decoder, identity bottleneck".into(),
        network: NetworkKind::Dense,
        bottleneck: BottleneckKind::Identity,
        schedule: Schedule::Joint,
        input_noise: None,
        family: None,
    }
}
