//! `bakeoff train`: one variant, one latent size, one output directory.

use std::path::PathBuf;

use ae_models::LatentMode;
use ae_models::{Backend, TrainingConfig};
use ae_results::train::RunSettings;
use anyhow::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::cli::DataArgs;
use crate::progress::TrainingBar;
use crate::run::{load_run, train_run};

/// Arguments of `bakeoff train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Variant name (see the list below).
    #[arg(long)]
    pub variant: String,
    /// Latent size: 20 for the general runs, 2 for the anomaly runs.
    #[arg(long, default_value_t = 20)]
    pub latent: usize,
    /// Leave this digit out of the training split (the anomaly runs use 1).
    #[arg(long)]
    pub exclude_digit: Option<u8>,
    /// Epochs (the study uses 60).
    #[arg(long, default_value_t = 60)]
    pub epochs: usize,
    /// Batch size (the study uses 256).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Backend that trains it: `fused` or `autograd` (default: fused where the variant has
    /// it, autograd otherwise).
    #[arg(long)]
    pub backend: Option<Backend>,
    /// Seed of the split and of all random draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Train on only the first N images of the training split.
    #[arg(long)]
    pub train_subset: Option<usize>,
    /// Dataset selection.
    #[command(flatten)]
    pub data: DataArgs,
    /// Output directory (settings.json, model.safetensors, record.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Print each epoch's losses.
    #[arg(long)]
    pub verbose: bool,
}

/// Runs `bakeoff train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    // Check the arguments before spending time on loading the data.
    let name: ae_data::DatasetName = args.data.dataset.parse()?;
    let variant = ae_models::variants::by_name(&args.variant)?;
    let mut settings = RunSettings::new(variant, args.latent, name, args.seed);
    if let Some(backend) = args.backend {
        settings.backend = backend;
    }
    settings.exclude_digit = args.exclude_digit;
    settings.train_subset = args.train_subset;
    settings.training = TrainingConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        ..TrainingConfig::default()
    };
    settings.validate()?;
    let (_, dataset) = super::load(&args.data)?;
    let rows = crate::run::training_rows(&settings, &dataset);
    let label = format!(
        "{} latent {} ({})",
        settings.variant.name, settings.latent_dim, settings.backend
    );
    let mut bar = TrainingBar::new(
        &label,
        args.epochs,
        rows.div_ceil(args.batch_size),
        args.batch_size,
        args.verbose,
    );
    let record = train_run(&settings, &dataset, &args.out, &mut bar)?;
    bar.finish();
    let (_, model) = load_run(&args.out)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let test = model.evaluate(&dataset.test.images.pixels, LatentMode::Sampled, &mut rng)?;
    let last = record.epochs.last().expect("at least one epoch");
    println!(
        "{label}: {} epochs in {:.1}s ({:.0} samples/s); final train loss {:.3}, validation {:.3}; test BCE {:.3}",
        record.epochs.len(),
        record.train_seconds,
        record.samples_per_second,
        last.train.total(),
        last.validation.total(),
        test.recon
    );
    println!("saved to {}", args.out.display());
    Ok(())
}
