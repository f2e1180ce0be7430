//! Downstream tasks of the autoencoder bake-off.
//!
//! The crate is split into two halves that never mix: modules such as
//! [`roc`], [`clustering`] and [`reduction`] *compute* the downstream
//! results (numbers, curves, 2-D embeddings) from latent codes and scores,
//! and [`render`] only *draws* already computed results into PNG and GIF
//! files. Nothing here prints. [`stats`] summarises results over repeated runs.

pub mod clustering;
pub mod confidence;
pub mod frechet;
pub mod instrument;
pub mod path;
pub mod reduction;
pub mod render;
pub mod roc;
pub mod stats;
pub mod tasks;
