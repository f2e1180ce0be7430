//! Command-line definition (clap) and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

fn variants_help() -> String {
    let list: Vec<String> = ae_models::variants::all()
        .iter()
        .map(|v| format!("  {:<16} {}", v.name, v.description))
        .collect();
    format!("Variants:\n{}", list.join("\n"))
}

/// Trains and compares the nine autoencoders of "The Great Autoencoder Bake Off".
#[derive(Parser, Debug)]
#[command(name = "bakeoff", version, after_help = variants_help())]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Dataset selection shared by the subcommands.
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// Dataset: mnist (the copy shipped in data/mnist) or fmnist (Debian's dataset-fashion-mnist).
    #[arg(long, default_value = "mnist")]
    pub dataset: String,
    /// Read the four IDX files from this directory instead of the dataset's default location.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train one variant at one latent size and save its checkpoint, settings and losses.
    #[command(after_help = variants_help())]
    Train(commands::train::TrainArgs),
    /// Measure training throughput (samples/s) per variant and phase.
    Bench(commands::bench::BenchArgs),
    /// Run a whole study (train every variant, run every task) and write its report;
    /// finished jobs are cached, so reruns only do what is missing.
    #[command(after_help = variants_help())]
    Reproduce(commands::reproduce::ReproduceArgs),
    /// Run one job of a study by name and store its result (what each Slurm job runs).
    RunJob(commands::run_job::RunJobArgs),
    /// Show which jobs of a study are done, queued or running in Slurm, failed, or missing.
    Status(commands::status::StatusArgs),
}

/// Runs the command line; errors are printed with their causes and give exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The main thread joins the thread pool, so the engine's many short parallel sections
    // run on it directly instead of being handed to a pool thread while it sleeps: about
    // 100 fewer context switches per training step.
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global()
    {
        eprintln!("warning: could not set up the thread pool: {e}");
    }
    let result = match cli.command {
        Command::Train(args) => commands::train::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
        Command::Reproduce(args) => commands::reproduce::run(&args),
        Command::RunJob(args) => commands::run_job::run(&args),
        Command::Status(args) => commands::status::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
