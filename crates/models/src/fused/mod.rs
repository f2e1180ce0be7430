//! The fused engine: a training engine with hand-written forward and backward passes on the
//! [`crate::kernels`], for the variants built from parts (the study's nine). What candle's
//! autograd would do for these fully connected networks, without a graph: each block keeps
//! what its backward pass needs, buffers are reused between steps, and Adam updates weights
//! in place. [`Autoencoder`] is the network; [`model`] implements the model interface for it.

pub mod autoencoder;
pub mod bottleneck;
pub mod checkpoint;
pub mod layers;
pub mod model;
pub mod network;

pub use autoencoder::Autoencoder;
