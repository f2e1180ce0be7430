//! The runner: the `bakeoff` command line, single training runs, benchmarks, and (in
//! `reproduce`) the whole study. Models and evaluation live in their own crates; this crate
//! parses arguments, plans work, reports progress and writes files.

pub mod cli;
pub mod commands;
pub mod progress;
pub mod run;
