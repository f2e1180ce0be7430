//! The runner: the `bakeoff` command line, single training runs, benchmarks, and (in
//! `reproduce`) the whole study. Models and evaluation live in their own crates; this crate
//! parses arguments, plans work, reports progress and writes files.
//!
//! The study flows one way: [`experiment`] (the TOML file) -> [`plan`] (jobs and cache
//! keys) -> [`jobs`] (each job's result, one of [`ae_results`]' types, cached as JSON) ->
//! [`loader`] (the cached results read back) -> [`tables`] (with [`quality_tables`]),
//! [`figures`], [`findings`], [`results_json`] and [`report`]. The [`executor`] runs the jobs here or on a Slurm cluster; the [`lock`] keeps
//! two processes from working on one results directory at once.

pub mod agreement;
pub mod cli;
pub mod commands;
pub mod dead_units;
pub mod differences;
pub mod executor;
pub mod experiment;
pub mod figures;
pub mod findings;
pub mod jobs;
pub mod loader;
pub mod lock;
pub mod metadata;
pub mod plan;
pub mod progress;
pub mod quality_tables;
pub mod reference;
pub mod report;
pub mod results_json;
pub mod run;
pub mod table_name;
pub mod tables;
pub mod task_table;
