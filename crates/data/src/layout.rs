//! How a dataset stores its four IDX files ([`Layout`]): their names, the pixel order
//! of an image ([`PixelOrder`]), and how the labels in the files map to class indices.

use std::path::Path;

use crate::dataset::{TEST_IMAGES_FILE, TEST_LABELS_FILE, TRAIN_IMAGES_FILE, TRAIN_LABELS_FILE};
use crate::DataError;

/// The order in which an IDX file stores the pixels of one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelOrder {
    /// Row after row, as MNIST, Fashion-MNIST and KMNIST store them.
    RowMajor,
    /// Column after column (the image is stored transposed), as the EMNIST IDX
    /// release stores them; transposed back to row-major on load.
    ColumnMajor,
}

/// The file names, pixel order and label range of one dataset's IDX files.
///
/// Each file is looked for as `<name>.gz`, then `<name>`; a `SHA256SUMS` entry
/// lists it under `<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Base name of the training-images file.
    pub train_images: &'static str,
    /// Base name of the training-labels file.
    pub train_labels: &'static str,
    /// Base name of the test-images file.
    pub test_images: &'static str,
    /// Base name of the test-labels file.
    pub test_labels: &'static str,
    /// How each image's pixels are ordered in the image files.
    pub pixel_order: PixelOrder,
    /// The label value in the files that stands for class 0; the file label
    /// `first_label + k` is loaded as class `k`.
    pub first_label: u8,
    /// The largest label value in the files (the last class); must be at least
    /// `first_label`.
    pub last_label: u8,
}

impl Layout {
    /// MNIST's file names, row-major images, labels `0..=9` kept as they are.
    /// Fashion-MNIST and KMNIST use the same layout.
    pub const MNIST: Layout = Layout {
        train_images: TRAIN_IMAGES_FILE,
        train_labels: TRAIN_LABELS_FILE,
        test_images: TEST_IMAGES_FILE,
        test_labels: TEST_LABELS_FILE,
        pixel_order: PixelOrder::RowMajor,
        first_label: 0,
        last_label: 9,
    };

    /// The "letters" split of the EMNIST IDX release (`emnist-letters-*-idx?-ubyte`):
    /// images stored column-major, file labels `1..=26` for the letters a..z (upper
    /// and lower case merged), loaded as classes `0..=25` (`a` = 0, `z` = 25).
    pub const EMNIST_LETTERS: Layout = Layout {
        train_images: "emnist-letters-train-images-idx3-ubyte",
        train_labels: "emnist-letters-train-labels-idx1-ubyte",
        test_images: "emnist-letters-test-images-idx3-ubyte",
        test_labels: "emnist-letters-test-labels-idx1-ubyte",
        pixel_order: PixelOrder::ColumnMajor,
        first_label: 1,
        last_label: 26,
    };

    /// The four base names: training images, training labels, test images, test labels.
    pub fn files(&self) -> [&'static str; 4] {
        [
            self.train_images,
            self.train_labels,
            self.test_images,
            self.test_labels,
        ]
    }

    /// Number of classes, `last_label - first_label + 1`: loaded labels are `0..num_classes()`.
    pub fn num_classes(&self) -> usize {
        usize::from(self.last_label) - usize::from(self.first_label) + 1
    }

    /// Map the labels of a label file (read from `path`, named in errors) to class
    /// indices `0..num_classes()`; a label outside `first_label..=last_label` is a
    /// [`DataError::InvalidLabel`].
    pub fn classes(&self, labels: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
        let (first, last) = (self.first_label, self.last_label);
        labels
            .iter()
            .enumerate()
            .map(|(index, &label)| {
                if (first..=last).contains(&label) {
                    Ok(label - first)
                } else {
                    Err(DataError::InvalidLabel {
                        path: path.to_path_buf(),
                        index,
                        label,
                        first,
                        last,
                    })
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("some/labels-idx1-ubyte")
    }

    #[test]
    fn mnist_labels_are_kept_and_ten_is_rejected() {
        let l = Layout::MNIST;
        assert_eq!(l.classes(&[5, 0, 9], p()).unwrap(), vec![5, 0, 9]);
        let e = l.classes(&[1, 10], p()).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::InvalidLabel {
                    index: 1,
                    label: 10,
                    first: 0,
                    last: 9,
                    ..
                }
            ),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("0..=9") && msg.contains("labels-idx1-ubyte"),
            "{msg}"
        );
    }

    #[test]
    fn emnist_letters_shift_one_to_twenty_six_down_by_one() {
        let l = Layout::EMNIST_LETTERS;
        // File label 1 ('a') -> class 0, 26 ('z') -> 25, 13 ('m') -> 12.
        assert_eq!(l.classes(&[1, 26, 13], p()).unwrap(), vec![0, 25, 12]);
        for bad in [0u8, 27] {
            let e = l.classes(&[3, bad], p()).unwrap_err();
            assert!(
                matches!(e, DataError::InvalidLabel { index: 1, label, first: 1, last: 26, .. } if label == bad),
                "{e:?}"
            );
            assert!(e.to_string().contains("1..=26"), "{e}");
        }
    }

    #[test]
    fn files_in_load_order() {
        assert_eq!(
            Layout::EMNIST_LETTERS.files(),
            [
                "emnist-letters-train-images-idx3-ubyte",
                "emnist-letters-train-labels-idx1-ubyte",
                "emnist-letters-test-images-idx3-ubyte",
                "emnist-letters-test-labels-idx1-ubyte",
            ]
        );
        assert_eq!(Layout::MNIST.files()[2], TEST_IMAGES_FILE);
        assert_eq!(Layout::MNIST.num_classes(), 10);
        assert_eq!(Layout::EMNIST_LETTERS.num_classes(), 26);
    }
}
