//! The `stacked` variant: dense, trained greedily layer by layer (20/20/20 epochs), identity bottleneck.

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// dense, trained greedily layer by layer (20/20/20 epochs), identity bottleneck.
pub fn variant() -> Variant {
    Variant {
        name: "stacked".into(),
        description: "dense, trained greedily layer by layer (20/20/20 epochs), identity bottleneck".into(),
        network: NetworkKind::Dense,
        bottleneck: BottleneckKind::Identity,
        schedule: Schedule::GreedyLayerwise,
        input_noise: None,
        family: None,
    }
}
