//! MNIST-style IDX datasets for the autoencoder bake-off (MNIST, Fashion-MNIST,
//! KMNIST, EMNIST letters): reading, SHA-256 verification, preprocessing (pad to
//! 32x32, scale to `[0, 1]`, transpose EMNIST's column-major images), label mapping
//! and the seeded train/validation/labelled splits.
//!
//! Typical use:
//!
//! ```no_run
//! use ae_data::{load_dataset, split, DatasetName};
//! let data = load_dataset(DatasetName::Mnist, None)?;
//! let s = split(data.train.len(), 42);
//! let train = data.train.select(&s.train);
//! # Ok::<(), ae_data::DataError>(())
//! ```

#![warn(missing_docs)]

pub mod checksum;
pub mod dataset;
pub mod error;
pub mod fs;
pub mod idx;
pub mod layout;
pub mod registry;
pub mod split;

pub use dataset::{
    load_dir, load_dir_with, pad_and_scale, Dataset, Images, LabelledImages, IMAGE_SIDE, INPUT_DIM,
    PADDING, RAW_SIDE, TEST_IMAGES_FILE, TEST_LABELS_FILE, TRAIN_IMAGES_FILE, TRAIN_LABELS_FILE,
};
pub use error::DataError;
pub use idx::{
    parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels, read_maybe_gz,
    IMAGES_MAGIC, LABELS_MAGIC,
};
pub use layout::{Layout, PixelOrder};
pub use registry::{fingerprint, load_dataset, DatasetName};
pub use split::{split, Split, LABELLED_SIZE, VALIDATION_SIZE};
