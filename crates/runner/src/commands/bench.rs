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
        "threads: {}, batch {}, {} batches per repeat, best of {} repeats, latent {}",
        rayon_threads(),
        args.batch_size,
        batches,
        args.repeats,
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
        let mut batches_of_indices = order.chunks_exact(args.batch_size).cycle();
        let mut batch = Vec::with_capacity(args.batch_size * INPUT_DIM);
        let mut step = |times: &mut [Duration; 3]| {
            let indices = batches_of_indices.next().expect("cycle never ends");
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
            times[0] += t1 - t0;
            times[1] += t2 - t1;
            times[2] += t3 - t2;
        };
        for _ in 0..WARMUP_BATCHES {
            step(&mut [Duration::ZERO; 3]);
        }
        let mut best: Option<[Duration; 3]> = None;
        for _ in 0..args.repeats {
            let mut times = [Duration::ZERO; 3];
            for _ in 0..batches {
                step(&mut times);
            }
            let total = |t: &[Duration; 3]| t.iter().sum::<Duration>();
            if best.is_none_or(|b| total(&times) < total(&b)) {
                best = Some(times);
            }
        }
        let times = best.expect("at least one repeat");
        let total: Duration = times.iter().sum();
        let ms = |d: Duration| d.as_secs_f64() * 1e3 / batches as f64;
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} |",
            (batches * args.batch_size) as f64 / total.as_secs_f64(),
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
