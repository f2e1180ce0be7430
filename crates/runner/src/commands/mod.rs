//! One module per subcommand.

pub mod bench;
pub mod reproduce;
pub mod run_job;
pub mod status;
pub mod train;

use ae_data::{load_dataset, Dataset, DatasetName};
use anyhow::{Context, Result};

use crate::cli::DataArgs;

/// Loads the dataset the arguments name, verifying checksums where the directory has them.
pub fn load(args: &DataArgs) -> Result<(DatasetName, Dataset)> {
    let name: DatasetName = args.dataset.parse()?;
    let dataset = load_dataset(name, args.data_dir.as_deref())
        .with_context(|| format!("loading dataset `{name}`"))?;
    Ok((name, dataset))
}

/// The results and checkpoints directories of a study: `out` (default
/// `results/<experiment name>`) and `checkpoints` (default `<out>/checkpoints`).
pub fn study_dirs(
    experiment: &crate::experiment::Experiment,
    out: &Option<std::path::PathBuf>,
    checkpoints: &Option<std::path::PathBuf>,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let out = out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("results").join(&experiment.name));
    let checkpoints = checkpoints
        .clone()
        .unwrap_or_else(|| out.join("checkpoints"));
    (out, checkpoints)
}
