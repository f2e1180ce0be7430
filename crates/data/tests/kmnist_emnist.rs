//! Integration tests for the KMNIST and EMNIST-letters loaders on small synthetic IDX
//! directories (neither dataset is available offline), plus their real default
//! directories when someone has put the official files there.

use std::io::Write;
use std::path::Path;

use ae_data::checksum::sha256_hex;
use ae_data::idx::{encode_idx_images, encode_idx_labels};
use ae_data::{
    fingerprint, load_dataset, load_dir, DataError, Dataset, DatasetName, Layout, IMAGE_SIDE,
};

const N_TRAIN: usize = 30;
const N_TEST: usize = 4;

/// Stored pixels: image `i`, stored byte `k` (row-major reading of the file) is
/// `(7 * i + k) % 256`, so every image and position differs.
fn pixels(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (0..784).map(move |k| ((7 * i + k) % 256) as u8))
        .collect()
}

/// Write `layout`'s four files (gzip or raw) and, optionally, a correct `SHA256SUMS`.
fn fixture(dir: &Path, layout: &Layout, labels: (&[u8], &[u8]), gz: bool, sums: bool) {
    let (train, test) = labels;
    let files = [
        (
            layout.train_images,
            encode_idx_images(train.len(), 28, 28, &pixels(train.len())),
        ),
        (layout.train_labels, encode_idx_labels(train)),
        (
            layout.test_images,
            encode_idx_images(test.len(), 28, 28, &pixels(test.len())),
        ),
        (layout.test_labels, encode_idx_labels(test)),
    ];
    let mut text = String::new();
    for (name, bytes) in &files {
        write_file(dir, name, bytes, gz);
        text.push_str(&format!("{}  {name}\n", sha256_hex(bytes)));
    }
    if sums {
        std::fs::write(dir.join("SHA256SUMS"), text).unwrap();
    }
}

fn write_file(dir: &Path, name: &str, bytes: &[u8], gz: bool) {
    if gz {
        let f = std::fs::File::create(dir.join(format!("{name}.gz"))).unwrap();
        let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap();
    } else {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn digit_labels(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 10) as u8).collect()
}

/// EMNIST letters labels as stored: 1..=26 in turn.
fn letter_labels(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 26) as u8 + 1).collect()
}

fn load_emnist(dir: &Path) -> Result<Dataset, DataError> {
    load_dataset(DatasetName::EmnistLetters, Some(dir))
}

#[test]
fn kmnist_loads_like_mnist() {
    for (gz, sums) in [(true, true), (false, false)] {
        let dir = tempfile::tempdir().unwrap();
        let (train, test) = (digit_labels(N_TRAIN), digit_labels(N_TEST));
        fixture(dir.path(), &Layout::MNIST, (&train, &test), gz, sums);
        let k = load_dataset(DatasetName::Kmnist, Some(dir.path())).unwrap();
        let m = load_dir(dir.path(), "mnist").unwrap();
        assert_eq!(k.name, "kmnist");
        assert_eq!((k.train.len(), k.test.len()), (N_TRAIN, N_TEST));
        assert_eq!(k.train, m.train);
        assert_eq!(k.test, m.test);
        assert_eq!(k.train.labels, train);
        assert_eq!(k.fingerprint, m.fingerprint);
        assert_eq!(
            fingerprint(DatasetName::Kmnist, Some(dir.path())).unwrap(),
            k.fingerprint
        );
        // Row-major as MNIST: stored byte k = 3 * 28 + 17 = 101 of image 1 is
        // (7 + 101) % 256 = 108, at (3, 17) -> padded (5, 19) = 5 * 32 + 19 = 179.
        assert_eq!(k.train.images.row(1)[179], 108.0 / 255.0);
    }
}

#[test]
fn emnist_images_are_transposed_and_labels_shifted() {
    for (gz, sums) in [(true, true), (false, true), (true, false), (false, false)] {
        let dir = tempfile::tempdir().unwrap();
        let (train, test) = (letter_labels(N_TRAIN), letter_labels(N_TEST));
        fixture(
            dir.path(),
            &Layout::EMNIST_LETTERS,
            (&train, &test),
            gz,
            sums,
        );
        let d = load_emnist(dir.path()).unwrap();
        assert_eq!(d.name, "emnist-letters");
        assert_eq!((d.train.len(), d.test.len()), (N_TRAIN, N_TEST));

        // Stored 1..=26 -> classes 0..=25: 30 labels 1, 2, ..., 26, 1, 2, 3, 4.
        let mut classes: Vec<u8> = (0..26).collect();
        classes.extend([0, 1, 2, 3]);
        assert_eq!(d.train.labels, classes);
        assert_eq!(d.test.labels, vec![0, 1, 2, 3]);
        let mut counts = vec![1; 26];
        counts[..4].fill(2);
        assert_eq!(d.train.class_counts(26), counts);

        // Image 1, stored (row 3, col 17): byte k = 3 * 28 + 17 = 101, value
        // (7 * 1 + 101) % 256 = 108. Transposed it is picture (17, 3), padded
        // (19, 5) = 19 * 32 + 5 = 613.
        let img = d.train.images.row(1);
        assert_eq!(img[613], 108.0 / 255.0);
        // Picture (3, 17), padded (5, 19) = 179, holds stored (17, 3):
        // k = 17 * 28 + 3 = 479, value (7 + 479) % 256 = 230.
        assert_eq!(img[179], 230.0 / 255.0);
        // Test image 3, stored (27, 0): k = 756, value (21 + 756) % 256 = 9,
        // picture (0, 27), padded (2, 29) = 2 * 32 + 29 = 93.
        assert_eq!(d.test.images.row(3)[93], 9.0 / 255.0);
        // The 2-pixel frame stays zero.
        for k in 0..IMAGE_SIDE {
            for border in [0, 1, IMAGE_SIDE - 2, IMAGE_SIDE - 1] {
                assert_eq!(img[border * IMAGE_SIDE + k], 0.0);
                assert_eq!(img[k * IMAGE_SIDE + border], 0.0);
            }
        }
    }
}

#[test]
fn emnist_label_outside_one_to_twenty_six_is_reported() {
    for bad in [0u8, 27] {
        let dir = tempfile::tempdir().unwrap();
        let mut train = letter_labels(N_TRAIN);
        train[5] = bad;
        fixture(
            dir.path(),
            &Layout::EMNIST_LETTERS,
            (&train, &letter_labels(N_TEST)),
            true,
            false,
        );
        let e = load_emnist(dir.path()).unwrap_err();
        assert!(
            matches!(e, DataError::InvalidLabel { index: 5, label, first: 1, last: 26, .. } if label == bad),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("emnist-letters-train-labels-idx1-ubyte.gz") && msg.contains("1..=26"),
            "{msg}"
        );
    }
}

#[test]
fn emnist_wrong_checksum_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    fixture(
        dir.path(),
        &Layout::EMNIST_LETTERS,
        (&letter_labels(N_TRAIN), &letter_labels(N_TEST)),
        true,
        true,
    );
    // Replace the test images (gz) by other bytes; SHA256SUMS still lists the old ones.
    let other = encode_idx_images(N_TEST, 28, 28, &vec![9; N_TEST * 784]);
    write_file(dir.path(), Layout::EMNIST_LETTERS.test_images, &other, true);
    let e = load_emnist(dir.path()).unwrap_err();
    assert!(matches!(e, DataError::ChecksumMismatch { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("emnist-letters-test-images-idx3-ubyte.gz")
            && msg.contains(&sha256_hex(&other)),
        "{msg}"
    );
}

#[test]
fn emnist_missing_file_names_the_dir_and_the_names_tried() {
    let dir = tempfile::tempdir().unwrap();
    // MNIST's names are not EMNIST's: the first file looked for is missing.
    fixture(
        dir.path(),
        &Layout::MNIST,
        (&digit_labels(N_TRAIN), &digit_labels(N_TEST)),
        true,
        false,
    );
    let e = load_emnist(dir.path()).unwrap_err();
    match &e {
        DataError::MissingFile { dir: d, tried } => {
            assert_eq!(d, dir.path());
            assert_eq!(
                tried,
                &[
                    "emnist-letters-train-images-idx3-ubyte.gz",
                    "emnist-letters-train-images-idx3-ubyte"
                ]
            );
        }
        other => panic!("expected MissingFile, got {other:?}"),
    }
    assert_eq!(
        e.to_string(),
        format!(
            "dataset file missing in {}: tried emnist-letters-train-images-idx3-ubyte.gz, \
             emnist-letters-train-images-idx3-ubyte",
            dir.path().display()
        )
    );
    assert!(matches!(
        fingerprint(DatasetName::EmnistLetters, Some(dir.path())),
        Err(DataError::MissingFile { .. })
    ));
}

#[test]
fn kmnist_missing_file_names_the_dir_and_the_names_tried() {
    let dir = tempfile::tempdir().unwrap();
    fixture(
        dir.path(),
        &Layout::MNIST,
        (&digit_labels(N_TRAIN), &digit_labels(N_TEST)),
        false,
        false,
    );
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte")).unwrap();
    let e = load_dataset(DatasetName::Kmnist, Some(dir.path())).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "dataset file missing in {}: tried t10k-labels-idx1-ubyte.gz, t10k-labels-idx1-ubyte",
            dir.path().display()
        )
    );
}

/// The official releases, when placed in the default directories: KMNIST has
/// 6,000 training and 1,000 test images per class, EMNIST letters 4,800 and 800.
/// Without them, loading names the missing directory.
#[test]
fn default_dirs_load_when_present() {
    for (name, per_class) in [
        (DatasetName::Kmnist, (6_000, 1_000)),
        (DatasetName::EmnistLetters, (4_800, 800)),
    ] {
        let dir = name.default_dir();
        if !dir.is_dir() {
            let e = load_dataset(name, None).unwrap_err();
            assert!(matches!(e, DataError::MissingDir { .. }), "{e:?}");
            assert!(e.to_string().contains(&dir.display().to_string()), "{e}");
            continue;
        }
        let d = load_dataset(name, None).unwrap();
        let k = name.num_classes();
        assert_eq!(d.train.class_counts(k), vec![per_class.0; k]);
        assert_eq!(d.test.class_counts(k), vec![per_class.1; k]);
    }
}
