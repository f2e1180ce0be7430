//! The bakeoff's models: encoders, decoders, bottlenecks, the variants, one model interface
//! ([`Model`], [`TrainableModel`]) and two backends behind it.
//!
//! The `fused` backend ([`Autoencoder`]) is a training engine with hand-written forward and
//! backward passes on the `gemm` kernels: what candle's autograd would do for these fully
//! connected networks, without a graph; each block keeps what its backward pass needs,
//! buffers are reused between steps, and Adam updates weights in place. The `autograd`
//! backend ([`autograd::AutogradModel`]) is candle-nn with automatic differentiation and
//! implements every variant from its description. `tests/fused_equals_autograd.rs` checks
//! that the two agree on losses, gradients, BatchNorm statistics and Adam updates. Families
//! of autoencoders with new mechanisms ([`family`]: contractive, tied weights, adversarial,
//! Wasserstein, k-sparse) are one module each in [`variants`], written for the autograd
//! backend on the shared pieces of [`autograd::parts`].

pub mod autoencoder;
pub mod autograd;
pub mod backend;
pub mod bottleneck;
pub mod checkpoint;
pub mod classifier;
pub mod family;
mod fused;
pub mod layers;
pub mod layout;
pub mod loss;
mod matmul;
pub mod model;
pub mod network;
pub mod noise;
pub mod optim;
pub mod param;
mod simd;
pub mod training;
pub mod variant;
pub mod variants;
pub mod widths;

/// Version of the training engine's arithmetic. A checkpoint records the version that trained
/// it, and runs of another version are trained again rather than reused: 2 is the column-layout
/// engine, whose sums run in another order and whose input noise is drawn by Box-Muller.
pub const ENGINE_VERSION: u32 = 2;

pub use autoencoder::{Autoencoder, Losses};
pub use backend::Backend;
pub use bottleneck::{BottleneckKind, LatentMode};
pub use family::{Family, FamilySpec};
pub use model::{Capabilities, LossTerms, Model, ModelError, TrainableModel};
pub use training::{train, EpochRecord, TrainError, TrainingConfig, TrainingObserver};
pub use variant::{NetworkKind, Schedule, Variant};
