//! One module per subcommand.

pub mod bench;
pub mod reproduce;
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
