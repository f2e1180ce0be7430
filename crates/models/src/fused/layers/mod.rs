//! Building blocks of the fully connected networks: linear layers, batch norm, and the
//! `Linear -> [BatchNorm] -> [ReLU]` block they are stacked into.

mod batch_norm;
mod block;
mod linear;
mod relu;

pub use batch_norm::BatchNorm;
pub use block::Block;
pub use linear::Linear;
