//! The error type of this crate: every variant names the file, directory or value concerned.

use std::path::PathBuf;

/// Everything that can go wrong while locating, reading, verifying or parsing a dataset.
#[derive(thiserror::Error, Debug)]
pub enum DataError {
    /// The dataset directory does not exist (or is not a directory).
    #[error("dataset directory {} does not exist or is not a directory", path.display())]
    MissingDir {
        /// The directory that was looked for.
        path: PathBuf,
    },
    /// None of the accepted names of a required file exists in the directory.
    #[error("dataset file missing in {}: tried {}", dir.display(), tried.join(", "))]
    MissingFile {
        /// The directory searched.
        dir: PathBuf,
        /// The file names that were tried, in order.
        tried: Vec<String>,
    },
    /// An I/O or decompression error while reading or writing a file.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The IDX magic number is not the expected one.
    #[error("bad IDX magic number in {}: expected {expected:#010x}, found {found:#010x}", path.display())]
    BadMagic {
        /// The file concerned.
        path: PathBuf,
        /// The magic number required for this kind of file.
        expected: u32,
        /// The magic number read.
        found: u32,
    },
    /// The (decompressed) file is shorter than its header says.
    #[error("truncated IDX file {}: expected {expected_len} bytes, found {actual_len}", path.display())]
    Truncated {
        /// The file concerned.
        path: PathBuf,
        /// Length required by the header (header included).
        expected_len: usize,
        /// Actual decompressed length.
        actual_len: usize,
    },
    /// The (decompressed) file is longer than its header says.
    #[error("trailing bytes in IDX file {}: expected {expected_len} bytes, found {actual_len}", path.display())]
    TrailingBytes {
        /// The file concerned.
        path: PathBuf,
        /// Length required by the header (header included).
        expected_len: usize,
        /// Actual decompressed length.
        actual_len: usize,
    },
    /// Shapes are inconsistent: image side not 28x28, or image and label counts differ.
    #[error("dimension mismatch in {}: {detail}", path.display())]
    DimensionMismatch {
        /// The file concerned.
        path: PathBuf,
        /// What does not match.
        detail: String,
    },
    /// A label is outside the range of its dataset's classes (`0..=9` for the digit
    /// datasets, `1..=26` in the EMNIST letters files).
    #[error("invalid label {label} at index {index} in {} (labels must be in {first}..={last})", path.display())]
    InvalidLabel {
        /// The label file.
        path: PathBuf,
        /// Position of the offending label.
        index: usize,
        /// The offending value.
        label: u8,
        /// Smallest label allowed in the file.
        first: u8,
        /// Largest label allowed in the file.
        last: u8,
    },
    /// The SHA-256 of a file's decompressed bytes differs from its `SHA256SUMS` entry.
    #[error("SHA-256 mismatch for {}: expected {expected}, actual {actual}", path.display())]
    ChecksumMismatch {
        /// The file concerned.
        path: PathBuf,
        /// Hex digest listed in `SHA256SUMS`.
        expected: String,
        /// Hex digest of the decompressed bytes.
        actual: String,
    },
    /// `SHA256SUMS` exists but does not list a file that is loaded.
    #[error("{} has no entry for {name}", sums.display())]
    ChecksumUnlisted {
        /// The `SHA256SUMS` file.
        sums: PathBuf,
        /// The (decompressed) file name that has no entry.
        name: String,
    },
    /// A line of `SHA256SUMS` is malformed.
    #[error("malformed line {line} in {}: {detail}", path.display())]
    BadChecksumFile {
        /// The `SHA256SUMS` file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        detail: String,
    },
    /// A dataset name that is not known.
    #[error("unknown dataset {name:?}; known datasets: {}", known.join(", "))]
    UnknownDataset {
        /// The name given.
        name: String,
        /// The known names.
        known: Vec<String>,
    },
}

impl DataError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
