//! One module per subcommand.

pub mod bench;
pub mod reproduce;
pub mod run_job;
pub mod status;
pub mod train;

use std::path::{Path, PathBuf};

use ae_data::{load_dataset, Dataset, DatasetName};
use anyhow::{Context, Result};

use crate::cli::DataArgs;
use crate::experiment::Experiment;
use crate::plan::{Cache, Plan, CHECKPOINTS_DIR};

/// Loads the dataset the arguments name, verifying checksums where the directory has them.
pub fn load(args: &DataArgs) -> Result<(DatasetName, Dataset)> {
    let name: DatasetName = args.dataset.parse()?;
    let dataset = load_dataset(name, args.data_dir.as_deref())
        .with_context(|| format!("loading dataset `{name}`"))?;
    Ok((name, dataset))
}

/// Where a study writes: its results directory and the job store it shares with other
/// studies.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct StudyDirArgs {
    /// Results directory: report, tables, figures [default: results/<experiment name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Job store: every job's result by name and key, shared by the studies that point at it
    /// (a cluster's shared file system, say) [default: the `store` beside the results
    /// directory, i.e. results/store].
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Trained models [default: <store>/checkpoints].
    #[arg(long)]
    pub checkpoints: Option<PathBuf>,
}

/// The directories of one study, defaults resolved.
#[derive(Clone, Debug)]
pub struct StudyDirs {
    /// Results directory (report, tables, figures, lock, Slurm ledger).
    pub out: PathBuf,
    /// The job store.
    pub store: PathBuf,
    /// Trained models.
    pub checkpoints: PathBuf,
}

impl StudyDirArgs {
    /// The directories of `experiment`, with the defaults filled in.
    pub fn resolve(&self, experiment: &Experiment) -> StudyDirs {
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("results").join(&experiment.name));
        let store = self.store.clone().unwrap_or_else(|| {
            out.parent()
                .unwrap_or_else(|| Path::new(""))
                .join(DEFAULT_STORE)
        });
        let checkpoints = self
            .checkpoints
            .clone()
            .unwrap_or_else(|| store.join(CHECKPOINTS_DIR));
        StudyDirs {
            out,
            store,
            checkpoints,
        }
    }
}

impl StudyDirs {
    /// The cache of `plan` in these directories.
    pub fn cache(&self, plan: &Plan) -> Cache {
        Cache::new(&self.store, &self.checkpoints, plan)
    }
}

/// Name of the default store, beside the results directories of the studies.
pub const DEFAULT_STORE: &str = "store";
