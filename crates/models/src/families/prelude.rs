//! Everything a family module uses, in one import: `use crate::families::prelude::*;`.

pub use candle_core::{Device, Tensor};
pub use candle_nn::ModuleT;
pub use rand::RngCore;

pub use crate::autograd::parts::{FamilyModel, Objective, OneAdam, ParamGroup, Parts};
pub use crate::config::TrainingConfig;
pub use crate::family::{Family, Setting};
pub use crate::latent::Capabilities;
pub use crate::model::{LossTerms, ModelError, TrainableModel};
pub use crate::variant::Variant;

/// A result whose error is a [`ModelError`] unless said otherwise.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
