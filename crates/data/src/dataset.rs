//! In-memory datasets (`Images`, `LabelledImages`, `Dataset`), the padding /
//! scaling preprocessing, and loading the four IDX files of a directory as a
//! [`Layout`] describes them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::checksum::{self, SUMS_FILE};
use crate::idx::{parse_idx_images_ref, parse_idx_labels, read_maybe_gz};
use crate::layout::{Layout, PixelOrder};
use crate::DataError;

/// Side of a raw MNIST image, in pixels.
pub const RAW_SIDE: usize = 28;
/// Zero pixels added on every side of a raw image.
pub const PADDING: usize = 2;
/// Side of a preprocessed image: 28 + 2 * 2 = 32.
pub const IMAGE_SIDE: usize = RAW_SIDE + 2 * PADDING;
/// Number of values of one flattened, preprocessed image (32 * 32).
pub const INPUT_DIM: usize = IMAGE_SIDE * IMAGE_SIDE;

/// Base name of the training-images file (a `.gz` suffix is also accepted).
pub const TRAIN_IMAGES_FILE: &str = "train-images-idx3-ubyte";
/// Base name of the training-labels file (a `.gz` suffix is also accepted).
pub const TRAIN_LABELS_FILE: &str = "train-labels-idx1-ubyte";
/// Base name of the test-images file (a `.gz` suffix is also accepted).
pub const TEST_IMAGES_FILE: &str = "t10k-images-idx3-ubyte";
/// Base name of the test-labels file (a `.gz` suffix is also accepted).
pub const TEST_LABELS_FILE: &str = "t10k-labels-idx1-ubyte";

/// Row-major images, each `INPUT_DIM` f32 in `[0, 1]` (32x32, row-major).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Images {
    /// `len * INPUT_DIM` values, image after image.
    pub pixels: Vec<f32>,
    /// Number of images.
    pub len: usize,
}

impl Images {
    /// Build from flattened pixels; panics unless `pixels.len()` is a multiple of `INPUT_DIM`.
    pub fn from_pixels(pixels: Vec<f32>) -> Images {
        assert_eq!(
            pixels.len() % INPUT_DIM,
            0,
            "pixels not a multiple of INPUT_DIM"
        );
        let len = pixels.len() / INPUT_DIM;
        Images { pixels, len }
    }

    /// The `INPUT_DIM` values of image `i` (panics when `i >= len`).
    pub fn row(&self, i: usize) -> &[f32] {
        assert!(
            i < self.len,
            "image index {i} out of range (len {})",
            self.len
        );
        &self.pixels[i * INPUT_DIM..(i + 1) * INPUT_DIM]
    }

    /// A new `Images` holding the images at `indices`, in that order
    /// (repeats allowed; panics on an out-of-range index).
    pub fn select(&self, indices: &[usize]) -> Images {
        let mut pixels = Vec::with_capacity(indices.len() * INPUT_DIM);
        for &i in indices {
            pixels.extend_from_slice(self.row(i));
        }
        Images {
            pixels,
            len: indices.len(),
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first `min(n, len)` images.
    pub fn take_first(&self, n: usize) -> Images {
        let n = n.min(self.len);
        Images {
            pixels: self.pixels[..n * INPUT_DIM].to_vec(),
            len: n,
        }
    }

    /// Iterate over the images, each a slice of `INPUT_DIM` values.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.pixels.chunks_exact(INPUT_DIM)
    }
}

/// Images together with their class labels (`labels[i]` belongs to image `i`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelledImages {
    /// The preprocessed images.
    pub images: Images,
    /// One class index per image, in `0..num_classes` of its dataset
    /// ([`Layout::num_classes`]; 10 for the digit datasets, 26 for EMNIST letters).
    pub labels: Vec<u8>,
}

impl LabelledImages {
    /// The images and labels at `indices`, in that order (panics on an out-of-range index).
    pub fn select(&self, indices: &[usize]) -> LabelledImages {
        LabelledImages {
            images: self.images.select(indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Number of images of each class `0..num_classes` (panics when a label is
    /// `num_classes` or more; loaded labels are below their layout's `num_classes()`).
    pub fn class_counts(&self, num_classes: usize) -> Vec<usize> {
        let mut counts = vec![0; num_classes];
        for &l in &self.labels {
            let l = usize::from(l);
            assert!(
                l < num_classes,
                "label {l} is not a class below {num_classes}"
            );
            counts[l] += 1;
        }
        counts
    }
}

/// A loaded dataset: the official training and test images (counts as found in the
/// files: 60k and 10k for the MNIST family), preprocessed to 32x32 f32 in `[0, 1]`,
/// with labels mapped to class indices by the dataset's [`Layout`].
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Dataset name, e.g. `"mnist"`.
    pub name: String,
    /// The official training set (split further with [`crate::split()`]).
    pub train: LabelledImages,
    /// The official test set.
    pub test: LabelledImages,
    /// [`fingerprint_dir`] of the directory it was read from.
    pub fingerprint: String,
}

/// Preprocess raw row-major 28x28 u8 images: zero-pad 2 pixels on every side to
/// 32x32 and divide by 255. Panics unless `raw.len() == count * 28 * 28`.
pub fn pad_and_scale(raw: &[u8], count: usize) -> Images {
    pad_and_scale_ordered(raw, count, PixelOrder::RowMajor)
}

/// [`pad_and_scale`] for images stored in `order`: a column-major image is
/// transposed, so the byte at (row r, column c) of the stored 28x28 grid lands at
/// row `c + 2`, column `r + 2` of the 32x32 result.
fn pad_and_scale_ordered(raw: &[u8], count: usize, order: PixelOrder) -> Images {
    assert_eq!(
        raw.len(),
        count * RAW_SIDE * RAW_SIDE,
        "raw length mismatch"
    );
    let lut: [f32; 256] = std::array::from_fn(|v| v as f32 / 255.0);
    let mut pixels = vec![0.0f32; count * INPUT_DIM];
    for (src, dst) in raw
        .chunks_exact(RAW_SIDE * RAW_SIDE)
        .zip(pixels.chunks_exact_mut(INPUT_DIM))
    {
        for (r, src_row) in src.chunks_exact(RAW_SIDE).enumerate() {
            match order {
                PixelOrder::RowMajor => {
                    let start = (r + PADDING) * IMAGE_SIDE + PADDING;
                    for (d, &s) in dst[start..start + RAW_SIDE].iter_mut().zip(src_row) {
                        *d = lut[s as usize];
                    }
                }
                // Stored row r is picture column r.
                PixelOrder::ColumnMajor => {
                    for (c, &s) in src_row.iter().enumerate() {
                        dst[(c + PADDING) * IMAGE_SIDE + r + PADDING] = lut[s as usize];
                    }
                }
            }
        }
    }
    Images { pixels, len: count }
}

/// Find `<base>.gz` or `<base>` in `dir`, in that order.
fn locate(dir: &Path, base: &str) -> Result<PathBuf, DataError> {
    let tried = vec![format!("{base}.gz"), base.to_string()];
    for name in &tried {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(DataError::MissingFile {
        dir: dir.to_path_buf(),
        tried,
    })
}

/// Checksums of a directory: `None` when it has no `SHA256SUMS`.
struct Sums {
    path: PathBuf,
    map: HashMap<String, String>,
}

/// Read (and decompress) one file, verifying it against `sums` under `base`.
fn read_verified(path: &Path, base: &str, sums: Option<&Sums>) -> Result<Vec<u8>, DataError> {
    let bytes = read_maybe_gz(path)?;
    if let Some(sums) = sums {
        let expected = sums
            .map
            .get(base)
            .ok_or_else(|| DataError::ChecksumUnlisted {
                sums: sums.path.clone(),
                name: base.to_string(),
            })?;
        checksum::verify(&bytes, expected, path)?;
    }
    Ok(bytes)
}

fn load_images(
    path: &Path,
    base: &str,
    sums: Option<&Sums>,
    order: PixelOrder,
) -> Result<Images, DataError> {
    let bytes = read_verified(path, base, sums)?;
    let (count, rows, cols, raw) = parse_idx_images_ref(&bytes, path)?;
    if rows != RAW_SIDE || cols != RAW_SIDE {
        return Err(DataError::DimensionMismatch {
            path: path.to_path_buf(),
            detail: format!("images are {rows}x{cols}, expected {RAW_SIDE}x{RAW_SIDE}"),
        });
    }
    Ok(pad_and_scale_ordered(raw, count, order))
}

fn load_labels(
    path: &Path,
    base: &str,
    sums: Option<&Sums>,
    layout: &Layout,
) -> Result<Vec<u8>, DataError> {
    layout.classes(
        &parse_idx_labels(&read_verified(path, base, sums)?, path)?,
        path,
    )
}

fn pair(
    images: Images,
    labels: Vec<u8>,
    images_path: &Path,
    labels_path: &Path,
) -> Result<LabelledImages, DataError> {
    if images.len() != labels.len() {
        return Err(DataError::DimensionMismatch {
            path: labels_path.to_path_buf(),
            detail: format!(
                "{} labels but {} images in {}",
                labels.len(),
                images.len(),
                images_path.display()
            ),
        });
    }
    Ok(LabelledImages { images, labels })
}

/// Load the four IDX files of `dir` named as MNIST names them
/// ([`Layout::MNIST`]); see [`load_dir_with`].
pub fn load_dir(dir: &Path, name: &str) -> Result<Dataset, DataError> {
    load_dir_with(dir, name, &Layout::MNIST)
}

/// Load the four IDX files `layout` names from `dir` (each `<file>.gz` or raw
/// `<file>`, gzip detected by content), preprocess the images (transposing
/// column-major ones) and map the labels to classes `0..layout.num_classes()`.
///
/// When `dir/SHA256SUMS` exists, each of the four files must be listed there
/// under its name without `.gz`, and the SHA-256 of its decompressed bytes must
/// match; without that file nothing is verified. Images must be 28x28, each
/// image file must have as many images as its label file has labels, and every
/// label must lie in `layout.first_label..=layout.last_label`.
/// The training images are read on a second thread.
pub fn load_dir_with(dir: &Path, name: &str, layout: &Layout) -> Result<Dataset, DataError> {
    if !dir.is_dir() {
        return Err(DataError::MissingDir {
            path: dir.to_path_buf(),
        });
    }
    let train_images_path = locate(dir, layout.train_images)?;
    let train_labels_path = locate(dir, layout.train_labels)?;
    let test_images_path = locate(dir, layout.test_images)?;
    let test_labels_path = locate(dir, layout.test_labels)?;
    let sums_path = dir.join(SUMS_FILE);
    let sums = if sums_path.is_file() {
        Some(Sums {
            map: checksum::read_sums(&sums_path)?,
            path: sums_path,
        })
    } else {
        None
    };
    let sums = sums.as_ref();
    let order = layout.pixel_order;

    let (train_images, rest) = std::thread::scope(|s| {
        let handle = s.spawn(|| load_images(&train_images_path, layout.train_images, sums, order));
        let rest = (|| {
            let train_labels = load_labels(&train_labels_path, layout.train_labels, sums, layout)?;
            let test_images = load_images(&test_images_path, layout.test_images, sums, order)?;
            let test_labels = load_labels(&test_labels_path, layout.test_labels, sums, layout)?;
            Ok::<_, DataError>((train_labels, test_images, test_labels))
        })();
        let train_images = handle.join().expect("image loading thread panicked");
        (train_images, rest)
    });
    let train_images = train_images?;
    let (train_labels, test_images, test_labels) = rest?;
    Ok(Dataset {
        name: name.to_string(),
        fingerprint: fingerprint_dir_with(dir, layout)?,
        train: pair(
            train_images,
            train_labels,
            &train_images_path,
            &train_labels_path,
        )?,
        test: pair(
            test_images,
            test_labels,
            &test_images_path,
            &test_labels_path,
        )?,
    })
}

/// [`fingerprint_dir_with`] for MNIST's file names ([`Layout::MNIST`]).
pub fn fingerprint_dir(dir: &Path) -> Result<String, DataError> {
    fingerprint_dir_with(dir, &Layout::MNIST)
}

/// A fingerprint of the files [`load_dir_with`] reads from `dir`: the SHA-256 of each of
/// the four files' names and the SHA-256 of their bytes as stored. Different data (or the
/// same data stored differently) gives a different fingerprint, so results computed on one
/// directory are never taken for another's.
pub fn fingerprint_dir_with(dir: &Path, layout: &Layout) -> Result<String, DataError> {
    if !dir.is_dir() {
        return Err(DataError::MissingDir {
            path: dir.to_path_buf(),
        });
    }
    let mut listing = String::new();
    for base in layout.files() {
        let path = locate(dir, base)?;
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        listing.push_str(&format!(
            "{}  {}\n",
            checksum::sha256_hex(&bytes),
            name.unwrap_or_default()
        ));
    }
    Ok(checksum::sha256_hex(listing.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_the_bytes_of_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let write = |labels: &[u8]| {
            let images =
                crate::idx::encode_idx_images(labels.len(), 28, 28, &vec![7; labels.len() * 784]);
            std::fs::write(dir.path().join(TRAIN_IMAGES_FILE), &images).unwrap();
            std::fs::write(dir.path().join(TEST_IMAGES_FILE), &images).unwrap();
            let labels = crate::idx::encode_idx_labels(labels);
            std::fs::write(dir.path().join(TRAIN_LABELS_FILE), &labels).unwrap();
            std::fs::write(dir.path().join(TEST_LABELS_FILE), &labels).unwrap();
        };
        write(&[1, 2]);
        let a = fingerprint_dir(dir.path()).unwrap();
        assert_eq!(a.len(), 64);
        assert_eq!(fingerprint_dir(dir.path()).unwrap(), a);
        write(&[1, 3]);
        assert_ne!(fingerprint_dir(dir.path()).unwrap(), a);
        std::fs::remove_file(dir.path().join(TEST_LABELS_FILE)).unwrap();
        assert!(matches!(
            fingerprint_dir(dir.path()),
            Err(DataError::MissingFile { .. })
        ));
    }

    #[test]
    fn pad_and_scale_places_pixels() {
        let mut raw = vec![0u8; 2 * 784];
        raw[0] = 255; // image 0, (0,0)
        raw[784 + 27 * 28 + 27] = 51; // image 1, (27,27)
        let im = pad_and_scale(&raw, 2);
        assert_eq!(im.len(), 2);
        assert_eq!(im.row(0)[2 * 32 + 2], 1.0);
        assert_eq!(im.row(1)[29 * 32 + 29], 0.2);
        assert_eq!(im.pixels.iter().filter(|&&v| v != 0.0).count(), 2);
    }

    #[test]
    fn column_major_images_are_transposed() {
        // Stored grid (row-major reading of the file): (0, 1) = 255 and (27, 3) = 51
        // in image 0, (5, 20) = 102 in image 1. Transposed, (r, c) becomes (c, r),
        // then padding adds 2 to both: (0, 1) -> (1, 0) -> (3, 2) = 3 * 32 + 2 = 98;
        // (27, 3) -> (3, 27) -> (5, 29) = 5 * 32 + 29 = 189;
        // (5, 20) -> (20, 5) -> (22, 7) = 22 * 32 + 7 = 711.
        let mut raw = vec![0u8; 2 * 784];
        raw[1] = 255;
        raw[27 * 28 + 3] = 51;
        raw[784 + 5 * 28 + 20] = 102;
        let im = pad_and_scale_ordered(&raw, 2, PixelOrder::ColumnMajor);
        assert_eq!(im.row(0)[98], 1.0);
        assert_eq!(im.row(0)[189], 0.2);
        assert_eq!(im.row(1)[711], 0.4);
        assert_eq!(im.pixels.iter().filter(|&&v| v != 0.0).count(), 3);
        // Row-major keeps (0, 1) at (2, 3) = 67.
        assert_eq!(pad_and_scale(&raw, 2).row(0)[67], 1.0);
    }

    #[test]
    fn class_counts_cover_every_class() {
        let li = LabelledImages {
            images: Images::from_pixels(vec![0.0; 4 * INPUT_DIM]),
            labels: vec![25, 0, 25, 3],
        };
        let mut expected = vec![0; 26];
        expected[0] = 1;
        expected[3] = 1;
        expected[25] = 2;
        assert_eq!(li.class_counts(26), expected);
    }

    #[test]
    #[should_panic(expected = "label 25 is not a class below 10")]
    fn class_counts_reject_a_label_beyond_the_classes() {
        let li = LabelledImages {
            images: Images::from_pixels(vec![0.0; INPUT_DIM]),
            labels: vec![25],
        };
        li.class_counts(10);
    }

    #[test]
    fn select_and_take_first() {
        let im = Images::from_pixels((0..3 * INPUT_DIM).map(|i| (i / INPUT_DIM) as f32).collect());
        let s = im.select(&[2, 0, 2]);
        assert_eq!(s.len(), 3);
        assert_eq!(s.row(0)[0], 2.0);
        assert_eq!(s.row(1)[5], 0.0);
        assert_eq!(im.take_first(2).len(), 2);
        assert_eq!(im.take_first(10).len(), 3);
        assert!(im.take_first(0).is_empty());
        let li = LabelledImages {
            images: im,
            labels: vec![7, 8, 9],
        };
        let sl = li.select(&[1]);
        assert_eq!(sl.labels, vec![8]);
        assert_eq!(sl.images.row(0)[0], 1.0);
        assert_eq!(li.class_counts(10), vec![0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    }
}
