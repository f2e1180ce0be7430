//! The `sparse` variant: dense, sigmoid latent with a KL sparsity penalty (p = 0.25, beta = 1).

use crate::latent::BottleneckKind;
use crate::variant::{NetworkKind, Schedule, Variant};

/// dense, sigmoid latent with a KL sparsity penalty (p = 0.25, beta = 1).
pub fn variant() -> Variant {
    Variant {
        name: "sparse".into(),
        description: "dense, sigmoid latent with a KL sparsity penalty (p = 0.25, beta = 1)".into(),
        network: NetworkKind::Dense,
        bottleneck: BottleneckKind::Sparse { sparsity: 0.25, beta: 1.0 },
        schedule: Schedule::Joint,
        input_noise: None,
        family: None,
    }
}
