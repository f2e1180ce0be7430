//! The bake-off's results as types, shared by the runner that computes and stores them and
//! the report that reads them: one result type per kind of job in [`job_result::JobResult`]
//! (stored with its kind), the whole study's results filed by seed and variant in
//! [`study_results::StudyResults`], each per-seed number a variant is compared on named once
//! in [`metrics::Metric`], and the [`study::Study`] they belong to.
//!
//! This crate computes nothing and touches no file: the runner's jobs fill the types, its
//! store writes and reads them, and the report crate turns them into tables, figures and
//! text. It sits below both, so the report never depends on the runner's executors.

pub mod images;
pub mod job_result;
pub mod metrics;
pub mod pixels;
pub mod probe;
pub mod quality;
pub mod study;
pub mod study_results;
pub mod train;
