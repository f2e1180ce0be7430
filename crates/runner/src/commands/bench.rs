//! `bakeoff bench`: training throughput per variant, through the model interface's training
//! step (forward, loss, backward, optimizer) in either backend.

use std::time::{Duration, Instant};

use ae_data::INPUT_DIM;
use ae_models::{backend, variants, Backend, TrainingConfig};
use anyhow::{Context, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::cli::DataArgs;

/// Arguments of `bakeoff bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Variants to measure (default: all).
    #[arg(long)]
    pub variant: Vec<String>,
    /// Backend to measure: `fused` or `autograd` (default: each variant's own, fused where it
    /// has it).
    #[arg(long)]
    pub backend: Option<Backend>,
    /// Latent size.
    #[arg(long, default_value_t = 20)]
    pub latent: usize,
    /// Batch size.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Batches to time per variant after the warm-up (default: one epoch of the 55,000-image split).
    #[arg(long)]
    pub batches: Option<usize>,
    /// Timed repeats per variant; the fastest is reported (as scripts/pytorch_step_bench.py
    /// does), which filters out interference from other work on the machine.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: u32,
    /// Dataset selection.
    #[command(flatten)]
    pub data: DataArgs,
}

/// Untimed steps before a variant's timed repeats.
const WARMUP_BATCHES: usize = 5;

/// Runs `bakeoff bench` and prints a Markdown table.
pub fn run(args: &BenchArgs) -> Result<()> {
    let names = if args.variant.is_empty() {
        variants::names()
    } else {
        args.variant.clone()
    };
    // Check the variants and backends before spending time on loading the data.
    let runs = names
        .iter()
        .map(|name| {
            let variant = variants::by_name(name)?;
            let backend = args
                .backend
                .unwrap_or_else(|| Backend::default_for(&variant));
            anyhow::ensure!(
                backend.supports(&variant),
                "backend: `{backend}` does not implement variant `{name}` (use `autograd`)"
            );
            Ok((variant, backend))
        })
        .collect::<Result<Vec<_>>>()?;
    anyhow::ensure!(args.batch_size > 0, "batch_size: must be at least 1");
    let (_, dataset) = super::load(&args.data)?;
    let split = ae_data::split(dataset.train.len(), 42);
    let train = dataset.train.images.select(&split.train).pixels;
    let rows = train.len() / INPUT_DIM;
    anyhow::ensure!(
        rows >= args.batch_size,
        "batch_size: {} is more than the {rows} training images",
        args.batch_size
    );
    let batches = args.batches.unwrap_or(rows / args.batch_size);
    println!(
        "threads: {}, batch {}, {} batches per repeat, best of {} repeats, latent {}",
        rayon_threads(),
        args.batch_size,
        batches,
        args.repeats,
        args.latent
    );
    println!();
    println!("| variant | backend | samples/s | ms/batch |");
    println!("|---|---|---:|---:|");
    for (variant, backend) in runs {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut model = backend::build(&variant, args.latent, INPUT_DIM, backend, &mut rng)?;
        // A staged variant is timed in its last stage (outer layers frozen), as
        // scripts/pytorch_step_bench.py times it.
        let config = TrainingConfig {
            batch_size: args.batch_size,
            ..TrainingConfig::default()
        };
        model.begin_epoch(config.epochs, &config)?;
        let mut order: Vec<usize> = (0..rows).collect();
        order.shuffle(&mut rng);
        let mut batches_of_indices = order.chunks_exact(args.batch_size).cycle();
        let mut batch = Vec::with_capacity(args.batch_size * INPUT_DIM);
        let mut step = || -> Result<Duration> {
            let indices = batches_of_indices.next().expect("cycle never ends");
            batch.clear();
            for &i in indices {
                batch.extend_from_slice(&train[i * INPUT_DIM..(i + 1) * INPUT_DIM]);
            }
            let start = Instant::now();
            model
                .train_step(&batch, &mut rng)
                .with_context(|| format!("training step of {} ({backend})", variant.name))?;
            Ok(start.elapsed())
        };
        for _ in 0..WARMUP_BATCHES {
            step()?;
        }
        let mut best: Option<Duration> = None;
        for _ in 0..args.repeats {
            let mut total = Duration::ZERO;
            for _ in 0..batches {
                total += step()?;
            }
            if best.is_none_or(|b| total < b) {
                best = Some(total);
            }
        }
        let total = best.expect("at least one repeat");
        println!(
            "| {} | {backend} | {:.0} | {:.2} |",
            variant.name,
            (batches * args.batch_size) as f64 / total.as_secs_f64(),
            total.as_secs_f64() * 1e3 / batches as f64,
        );
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
