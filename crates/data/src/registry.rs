//! The known datasets by name ("mnist", "fmnist", "kmnist", "emnist-letters"), their
//! aliases, default directories and file [`Layout`]s.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::dataset::{fingerprint_dir_with, load_dir_with};
use crate::{DataError, Dataset, Layout};

/// Default directory of the vendored, checksummed MNIST copy.
pub const MNIST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist");
/// Default directory of Fashion-MNIST as installed by the Debian package
/// `dataset-fashion-mnist` (gzip files, no `SHA256SUMS`, so not verified).
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// Default directory of KMNIST: `data/kmnist` in the workspace, beside the vendored MNIST.
/// Not shipped; holds the four files of the official release, named as MNIST's.
pub const KMNIST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/kmnist");
/// Default directory of EMNIST: `data/emnist` in the workspace, beside the vendored MNIST.
/// Not shipped; holds the `emnist-letters-*` files of the official gzip IDX release.
pub const EMNIST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/emnist");

/// Known datasets: `mnist` (the vendored copy), `fmnist` (Fashion-MNIST), `kmnist`
/// (Kuzushiji-MNIST) and `emnist-letters` (the letters split of EMNIST).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// MNIST handwritten digits, from [`MNIST_DIR`].
    Mnist,
    /// Fashion-MNIST, from [`FASHION_MNIST_DIR`].
    FashionMnist,
    /// Kuzushiji-MNIST (10 classes of cursive Japanese characters), from [`KMNIST_DIR`].
    Kmnist,
    /// EMNIST letters (26 classes, a..z with upper and lower case merged), from
    /// [`EMNIST_DIR`]; see [`Layout::EMNIST_LETTERS`] for its transposed images and
    /// labels shifted from `1..=26` to `0..=25`.
    EmnistLetters,
}

impl DatasetName {
    /// Every known dataset, in display order.
    pub fn all() -> &'static [DatasetName] {
        &[
            DatasetName::Mnist,
            DatasetName::FashionMnist,
            DatasetName::Kmnist,
            DatasetName::EmnistLetters,
        ]
    }

    /// The short name used on the command line and in file names.
    pub fn as_str(&self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fmnist",
            DatasetName::Kmnist => "kmnist",
            DatasetName::EmnistLetters => "emnist-letters",
        }
    }

    /// Other names accepted for this dataset by [`FromStr`] (besides [`Self::as_str`]).
    pub fn aliases(&self) -> &'static [&'static str] {
        match self {
            DatasetName::Mnist => &[],
            DatasetName::FashionMnist => &["fashion-mnist", "fashion_mnist", "fashionmnist"],
            DatasetName::Kmnist => &["kuzushiji-mnist", "kuzushiji_mnist", "kuzushijimnist"],
            DatasetName::EmnistLetters => &["emnist_letters", "emnistletters"],
        }
    }

    /// The directory the dataset is loaded from when none is given.
    pub fn default_dir(&self) -> PathBuf {
        PathBuf::from(match self {
            DatasetName::Mnist => MNIST_DIR,
            DatasetName::FashionMnist => FASHION_MNIST_DIR,
            DatasetName::Kmnist => KMNIST_DIR,
            DatasetName::EmnistLetters => EMNIST_DIR,
        })
    }

    /// How the dataset's files are named and stored.
    pub fn layout(&self) -> &'static Layout {
        match self {
            DatasetName::Mnist | DatasetName::FashionMnist | DatasetName::Kmnist => &Layout::MNIST,
            DatasetName::EmnistLetters => &Layout::EMNIST_LETTERS,
        }
    }

    /// Number of classes; a loaded dataset's labels are `0..num_classes()`.
    pub fn num_classes(&self) -> usize {
        self.layout().num_classes()
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = DataError;

    /// Accepts each dataset's [`DatasetName::as_str`] or one of its
    /// [`DatasetName::aliases`], case-insensitively and ignoring surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        DatasetName::all()
            .iter()
            .copied()
            .find(|d| d.as_str() == wanted || d.aliases().contains(&wanted.as_str()))
            .ok_or_else(|| DataError::UnknownDataset {
                name: s.to_string(),
                known: DatasetName::all()
                    .iter()
                    .map(|d| match d.aliases() {
                        [] => d.to_string(),
                        aliases => format!("{d} (or {})", aliases.join(", ")),
                    })
                    .collect(),
            })
    }
}

/// Load a known dataset from `data_dir`, or from its [`DatasetName::default_dir`]
/// when `data_dir` is `None`. See [`load_dir_with`] for the checks made.
pub fn load_dataset(name: DatasetName, data_dir: Option<&Path>) -> Result<Dataset, DataError> {
    let dir = data_dir.map_or_else(|| name.default_dir(), Path::to_path_buf);
    load_dir_with(&dir, name.as_str(), name.layout())
}

/// The [`fingerprint_dir_with`] of the directory [`load_dataset`] would read.
pub fn fingerprint(name: DatasetName, data_dir: Option<&Path>) -> Result<String, DataError> {
    let dir = data_dir.map_or_else(|| name.default_dir(), Path::to_path_buf);
    fingerprint_dir_with(&dir, name.layout())
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
    fn aliases_parse_case_insensitively() {
        for (text, d) in [
            ("Fashion-MNIST", DatasetName::FashionMnist),
            ("KMNIST", DatasetName::Kmnist),
            ("Kuzushiji-MNIST", DatasetName::Kmnist),
            (" kuzushiji_mnist ", DatasetName::Kmnist),
            ("EMNIST-Letters", DatasetName::EmnistLetters),
            ("emnist_letters", DatasetName::EmnistLetters),
        ] {
            assert_eq!(text.parse::<DatasetName>().unwrap(), d, "{text}");
        }
        // Other EMNIST splits (digits, balanced, ...) are different datasets.
        assert!("emnist".parse::<DatasetName>().is_err());
    }

    #[test]
    fn unknown_name_lists_known() {
        let e = "cifar10".parse::<DatasetName>().unwrap_err();
        assert!(matches!(e, DataError::UnknownDataset { .. }));
        assert_eq!(
            e.to_string(),
            "unknown dataset \"cifar10\"; known datasets: mnist, \
             fmnist (or fashion-mnist, fashion_mnist, fashionmnist), \
             kmnist (or kuzushiji-mnist, kuzushiji_mnist, kuzushijimnist), \
             emnist-letters (or emnist_letters, emnistletters)"
        );
    }

    #[test]
    fn layouts_classes_and_default_dirs() {
        let classes: Vec<usize> = DatasetName::all().iter().map(|d| d.num_classes()).collect();
        assert_eq!(classes, [10, 10, 10, 26]);
        assert_eq!(DatasetName::Kmnist.layout(), &Layout::MNIST);
        assert_eq!(DatasetName::EmnistLetters.layout(), &Layout::EMNIST_LETTERS);
        // Beside the vendored MNIST, whatever the working directory.
        let mnist_parent = DatasetName::Mnist
            .default_dir()
            .parent()
            .unwrap()
            .to_path_buf();
        assert_eq!(
            DatasetName::Kmnist.default_dir(),
            mnist_parent.join("kmnist")
        );
        assert_eq!(
            DatasetName::EmnistLetters.default_dir(),
            mnist_parent.join("emnist")
        );
    }
}
