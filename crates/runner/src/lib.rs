//! The runner: the `bakeoff` command line, single training runs, benchmarks, and (in
//! `reproduce`) the whole study. Models and evaluation live in their own crates, the result
//! types in `ae-results` and the analysis (tables, findings, figures, `results.json`,
//! `report.md`) in `ae-report`; this crate parses arguments, plans work, runs it, stores the
//! results and reports progress.
//!
//! The study flows one way: [`experiment`] (the TOML file) -> [`plan`] (jobs and cache keys,
//! the downstream tasks described once in [`task_table`]) -> [`jobs`] (each job's result,
//! one of [`ae_results`]' types, stored as JSON in the plan's store; training runs in
//! [`run`]) -> [`loader`] (the stored results read back into an
//! [`ae_results::study_results::StudyResults`]) -> [`ae_report::write_outputs`]. The
//! [`executor`] runs the jobs here or on a Slurm cluster; the [`lock`] keeps two processes
//! from working on one results directory at once; [`progress`] shows how far they are.

pub mod cli;
pub mod commands;
pub mod executor;
pub mod experiment;
pub mod jobs;
pub mod loader;
pub mod lock;
pub mod plan;
pub mod progress;
pub mod run;
pub mod task_table;
