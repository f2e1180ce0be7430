//! The numerical kernels under both backends: vectorised loops ([`simd`]), matrix products
//! on the `gemm` crate ([`matmul`]), the column layout of activations ([`layout`]), the BCE
//! loss ([`loss`]), Adam ([`optim`]), parameters ([`param`]) and the random draws both
//! backends share ([`noise`]). Nothing here knows about models.

pub mod layout;
pub mod loss;
pub mod matmul;
pub mod noise;
pub mod optim;
pub mod param;
pub mod simd;
