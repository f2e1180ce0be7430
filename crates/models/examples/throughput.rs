//! Training throughput of one variant in each backend that implements it, `bakeoff
//! bench`-style: batches of random images through `TrainableModel::train_step` (forward,
//! backward, every optimizer's update), best of a few timed repeats after a warm-up.
//!
//! `cargo run --release -p ae-models --example throughput -- [variant] [batches] [repeats]`

use std::time::Instant;

use ae_models::{backend, variants, Backend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BATCH: usize = 256;
const WARMUP: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("vanilla", String::as_str);
    let batches: usize = args.get(1).map_or(Ok(40), |s| s.parse())?;
    let repeats: usize = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let variant = variants::by_name(name)?;
    let mut data_rng = ChaCha8Rng::seed_from_u64(1);
    let pool: Vec<Vec<f32>> = (0..8)
        .map(|_| {
            (0..BATCH * 1024)
                .map(|_| data_rng.random::<f32>())
                .collect()
        })
        .collect();
    println!("{name}, latent 20, batch {BATCH}, {batches} batches per repeat, best of {repeats}");
    println!("| backend | samples/s |");
    println!("|---|---:|");
    for b in Backend::ALL.into_iter().filter(|b| b.supports(&variant)) {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut model = backend::build(&variant, 20, 1024, b, &mut rng)?;
        for batch in pool.iter().cycle().take(WARMUP) {
            model.train_step(batch, &mut rng)?;
        }
        let mut best = f64::INFINITY;
        for _ in 0..repeats {
            let start = Instant::now();
            for batch in pool.iter().cycle().take(batches) {
                model.train_step(batch, &mut rng)?;
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!("| {b} | {:.0} |", (batches * BATCH) as f64 / best);
    }
    Ok(())
}
