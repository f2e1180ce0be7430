//! The bakeoff's models: one model interface ([`Model`], [`TrainableModel`]), the variants
//! and families that describe the contestants, and two backends behind the interface.
//!
//! The crate is layered; each layer uses only those below it:
//!
//! 1. **The interface** (this folder's files): descriptions as data ([`variant`],
//!    [`latent`], [`architecture`], [`config`]), the model traits ([`model`]), checkpoint
//!    files ([`checkpoint`]), what a family declares ([`family`]), the training loop
//!    ([`training`]) and, on top, the registry of contestants ([`variants`]) and the backend
//!    choice ([`backend`]), which builds a variant's model in either backend.
//! 2. **The backends.** [`fused`] is the hand-written engine (forward and backward passes on
//!    the kernels, no graph) for the variants built from parts. [`autograd`] is candle with
//!    automatic differentiation: every variant built from parts, and the [`families`] (one
//!    module each, new mechanisms on `autograd::parts`). The autograd backend computes with
//!    the fused engine's kernels, and runs its dense networks as single graph nodes, only
//!    through its custom operations, [`autograd::ops`]: the one declared bridge, each op
//!    tested against the candle operations it replaces.
//! 3. **The kernels** ([`kernels`]): vectorised loops, matrix products, the BCE loss, Adam
//!    and the random draws both backends share, so that they draw the same numbers.
//!
//! `tests/fused_equals_autograd.rs` checks that the two backends agree on losses, gradients,
//! BatchNorm statistics and Adam updates. The reference classifier ([`classifier`]), an
//! instrument rather than a contestant, is built on the fused engine.

pub mod architecture;
pub mod autograd;
pub mod backend;
pub mod checkpoint;
pub mod classifier;
pub mod config;
pub mod families;
pub mod family;
pub mod fused;
pub mod kernels;
pub mod latent;
pub mod model;
pub mod training;
pub mod variant;
pub mod variants;

/// Version of the training engine's arithmetic. A checkpoint records the version that trained
/// it, and runs of another version are trained again rather than reused: 2 is the column-layout
/// engine, whose sums run in another order and whose input noise is drawn by Box-Muller.
pub const ENGINE_VERSION: u32 = 2;

pub use config::TrainingConfig;
pub use family::Family;
pub use fused::Autoencoder;
pub use latent::{BottleneckKind, Capabilities, LatentMode};
pub use model::{Backend, LossTerms, Losses, Model, ModelError, TrainableModel};
pub use training::{train, EpochRecord, TrainError, TrainingObserver};
pub use variant::{FamilySpec, NetworkKind, Schedule, Variant};
