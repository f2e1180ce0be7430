//! `bakeoff bench`: training throughput per variant and per phase of the step.

use std::time::{Duration, Instant};

use ae_data::INPUT_DIM;
use ae_models::optim::{Adam, AdamConfig};
use ae_models::{variants, Autoencoder};
use anyhow::Result;
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
    /// Latent size.
    #[arg(long, default_value_t = 20)]
    pub latent: usize,
    /// Batch size.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Batches to time per variant after the warm-up (default: one epoch of the 55,000-image split).
    #[arg(long)]
    pub batches: Option<usize>,
    /// Dataset selection.
    #[command(flatten)]
    pub data: DataArgs,
}

/// Runs `bakeoff bench` and prints a Markdown table.
pub fn run(args: &BenchArgs) -> Result<()> {
    let (_, dataset) = super::load(&args.data)?;
    let split = ae_data::split(dataset.train.len(), 42);
    let train = dataset.train.images.select(&split.train).pixels;
    let rows = train.len() / INPUT_DIM;
    let batches = args.batches.unwrap_or(rows / args.batch_size);
    let names = if args.variant.is_empty() {
        variants::names()
    } else {
        args.variant.clone()
    };
    println!(
        "threads: {}, batch {}, {} batches per variant, latent {}",
        rayon_threads(),
        args.batch_size,
        batches,
        args.latent
    );
    println!();
    println!("| variant | samples/s | forward ms/batch | backward ms/batch | optimizer ms/batch |");
    println!("|---|---:|---:|---:|---:|");
    for name in names {
        let variant = variants::by_name(&name)?;
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut model = Autoencoder::new(&variant, args.latent, INPUT_DIM, &mut rng);
        // A staged variant is timed in its last stage (outer layers frozen), as
        // scripts/pytorch_step_bench.py times it.
        model.set_stage(model.num_stages());
        let mut adam = Adam::new(AdamConfig::default());
        let mut order: Vec<usize> = (0..rows).collect();
        order.shuffle(&mut rng);
        let mut batch = Vec::with_capacity(args.batch_size * INPUT_DIM);
        let mut times = [Duration::ZERO; 3];
        let warmup = 5;
        let mut samples = 0;
        for (b, indices) in order
            .chunks_exact(args.batch_size)
            .cycle()
            .take(batches + warmup)
            .enumerate()
        {
            batch.clear();
            for &i in indices {
                batch.extend_from_slice(&train[i * INPUT_DIM..(i + 1) * INPUT_DIM]);
            }
            let t0 = Instant::now();
            model.forward_train(&batch, indices.len(), &mut rng);
            let t1 = Instant::now();
            model.backward();
            let t2 = Instant::now();
            adam.step(&mut model.params_mut());
            let t3 = Instant::now();
            if b >= warmup {
                times[0] += t1 - t0;
                times[1] += t2 - t1;
                times[2] += t3 - t2;
                samples += indices.len();
            }
        }
        let total: Duration = times.iter().sum();
        let ms = |d: Duration| d.as_secs_f64() * 1e3 / batches as f64;
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} |",
            samples as f64 / total.as_secs_f64(),
            ms(times[0]),
            ms(times[1]),
            ms(times[2])
        );
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
