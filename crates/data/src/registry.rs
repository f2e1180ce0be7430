//! The known datasets by name ("mnist", "fmnist") and their default directories.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::{load_dir, DataError, Dataset};

/// Default directory of the vendored, checksummed MNIST copy.
pub const MNIST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist");
/// Default directory of Fashion-MNIST as installed by the Debian package
/// `dataset-fashion-mnist` (gzip files, no `SHA256SUMS`, so not verified).
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Known datasets: `mnist` (the vendored copy) and `fmnist` (Fashion-MNIST).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// MNIST handwritten digits, from [`MNIST_DIR`].
    Mnist,
    /// Fashion-MNIST, from [`FASHION_MNIST_DIR`].
    FashionMnist,
}

impl DatasetName {
    /// Every known dataset, in display order.
    pub fn all() -> &'static [DatasetName] {
        &[DatasetName::Mnist, DatasetName::FashionMnist]
    }

    /// The short name used on the command line and in file names.
    pub fn as_str(&self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fmnist",
        }
    }

    /// The directory the dataset is loaded from when none is given.
    pub fn default_dir(&self) -> PathBuf {
        match self {
            DatasetName::Mnist => PathBuf::from(MNIST_DIR),
            DatasetName::FashionMnist => PathBuf::from(FASHION_MNIST_DIR),
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = DataError;

    /// Accepts `mnist` and `fmnist` (also `fashion-mnist` / `fashion_mnist`),
    /// case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mnist" => Ok(DatasetName::Mnist),
            "fmnist" | "fashion-mnist" | "fashion_mnist" | "fashionmnist" => {
                Ok(DatasetName::FashionMnist)
            }
            _ => Err(DataError::UnknownDataset {
                name: s.to_string(),
                known: DatasetName::all().iter().map(|d| d.to_string()).collect(),
            }),
        }
    }
}

/// Load a known dataset from `data_dir`, or from its [`DatasetName::default_dir`]
/// when `data_dir` is `None`. See [`load_dir`] for the checks made.
pub fn load_dataset(name: DatasetName, data_dir: Option<&Path>) -> Result<Dataset, DataError> {
    let dir = data_dir.map_or_else(|| name.default_dir(), Path::to_path_buf);
    load_dir(&dir, name.as_str())
}

/// The [`crate::dataset::fingerprint_dir`] of the directory [`load_dataset`] would read.
pub fn fingerprint(name: DatasetName, data_dir: Option<&Path>) -> Result<String, DataError> {
    let dir = data_dir.map_or_else(|| name.default_dir(), Path::to_path_buf);
    crate::dataset::fingerprint_dir(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip() {
        for &d in DatasetName::all() {
            assert_eq!(d.to_string().parse::<DatasetName>().unwrap(), d);
        }
        assert_eq!(
            "Fashion-MNIST".parse::<DatasetName>().unwrap(),
            DatasetName::FashionMnist
        );
    }

    #[test]
    fn unknown_name_lists_known() {
        let e = "cifar10".parse::<DatasetName>().unwrap_err();
        assert!(matches!(e, DataError::UnknownDataset { .. }));
        let msg = e.to_string();
        assert!(msg.contains("cifar10") && msg.contains("mnist") && msg.contains("fmnist"));
    }
}
