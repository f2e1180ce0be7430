//! The `shallow` variant: one linear layer each way, identity bottleneck.

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// one linear layer each way, identity bottleneck.
pub fn variant() -> Variant {
    Variant {
        name: "shallow".into(),
        description: "one linear layer each way, identity bottleneck".into(),
        network: NetworkKind::Shallow,
        bottleneck: BottleneckKind::Identity,
        schedule: Schedule::Joint,
        input_noise: None,
        family: None,
    }
}
