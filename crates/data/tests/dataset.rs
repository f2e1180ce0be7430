//! Integration tests: the vendored MNIST (loaded once), splits on its labels,
//! and every error path on small synthetic IDX directories.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use ae_data::checksum::sha256_hex;
use ae_data::idx::{encode_idx_images, encode_idx_labels};
use ae_data::{
    load_dataset, load_dir, split, DataError, Dataset, DatasetName, IMAGE_SIDE, INPUT_DIM,
    TEST_IMAGES_FILE, TEST_LABELS_FILE, TRAIN_IMAGES_FILE, TRAIN_LABELS_FILE,
};

fn mnist() -> &'static Dataset {
    static MNIST: OnceLock<Dataset> = OnceLock::new();
    MNIST.get_or_init(|| load_dataset(DatasetName::Mnist, None).expect("vendored MNIST loads"))
}

#[test]
fn mnist_counts_and_labels() {
    let d = mnist();
    assert_eq!(d.name, "mnist");
    assert_eq!(d.train.len(), 60_000);
    assert_eq!(d.test.len(), 10_000);
    assert_eq!(d.train.images.pixels.len(), 60_000 * INPUT_DIM);
    assert_eq!(d.test.images.pixels.len(), 10_000 * INPUT_DIM);
    assert_eq!(&d.train.labels[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(&d.test.labels[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    assert_eq!(
        d.train.class_counts(10),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        d.test.class_counts(10),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

#[test]
fn mnist_pixels_are_padded_and_scaled() {
    let d = mnist();
    for set in [&d.train, &d.test] {
        assert!(set.images.pixels.iter().all(|&v| (0.0..=1.0).contains(&v)));
        for img in set.images.rows() {
            for k in 0..IMAGE_SIDE {
                for border in [0, 1, IMAGE_SIDE - 2, IMAGE_SIDE - 1] {
                    assert_eq!(img[border * IMAGE_SIDE + k], 0.0, "padding row");
                    assert_eq!(img[k * IMAGE_SIDE + border], 0.0, "padding column");
                }
            }
        }
    }
    let img0 = d.train.images.row(0);
    assert_eq!(img0.iter().copied().fold(0.0f32, f32::max), 1.0);
    // Raw pixel (5, 12) of image 0 is 3, now at (7, 14).
    assert_eq!(img0[7 * IMAGE_SIDE + 14], 3.0 / 255.0);
    assert_eq!(img0[7 * IMAGE_SIDE + 13], 0.0);
    let sum: f32 = img0.iter().sum();
    assert!((sum - 27525.0 / 255.0).abs() < 1e-3, "sum {sum}");
}

#[test]
fn mnist_split_and_anomaly_split() {
    let d = mnist();
    let s = split(d.train.len(), 0);
    assert_eq!(
        (s.train.len(), s.validation.len(), s.labelled.len()),
        (55_000, 5_000, 550)
    );
    let ones = s.train.iter().filter(|&&i| d.train.labels[i] == 1).count();
    assert!(ones > 6_000 && ones < 6_742, "{ones}");
    let anomaly = s.without_digit(&d.train.labels, 1);
    assert_eq!(anomaly.len(), 55_000 - ones);
    let sub = d.train.select(&anomaly);
    assert_eq!(sub.class_counts(10)[1], 0);
    assert_eq!(sub.len(), anomaly.len());
    let probe = d.train.select(&s.labelled);
    assert_eq!(probe.len(), 550);
    assert!(probe.class_counts(10).iter().all(|&c| c > 20));
}

// ---------- synthetic fixtures ----------

const N_TRAIN: usize = 12;
const N_TEST: usize = 5;

fn images(n: usize) -> Vec<u8> {
    (0..n * 784).map(|i| (i % 256) as u8).collect()
}

fn labels(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 10) as u8).collect()
}

/// Write the four files (gzip or raw) plus, optionally, a correct SHA256SUMS.
fn fixture(dir: &Path, gz: bool, sums: bool) {
    let files = [
        (
            TRAIN_IMAGES_FILE,
            encode_idx_images(N_TRAIN, 28, 28, &images(N_TRAIN)),
        ),
        (TRAIN_LABELS_FILE, encode_idx_labels(&labels(N_TRAIN))),
        (
            TEST_IMAGES_FILE,
            encode_idx_images(N_TEST, 28, 28, &images(N_TEST)),
        ),
        (TEST_LABELS_FILE, encode_idx_labels(&labels(N_TEST))),
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
        let _ = std::fs::remove_file(dir.join(name));
        let f = std::fs::File::create(dir.join(format!("{name}.gz"))).unwrap();
        let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap();
    } else {
        let _ = std::fs::remove_file(dir.join(format!("{name}.gz")));
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn check_fixture(d: &Dataset) {
    assert_eq!(d.train.len(), N_TRAIN);
    assert_eq!(d.test.len(), N_TEST);
    assert_eq!(d.train.labels, labels(N_TRAIN));
    // Raw (0, 0) of image 0 is 0; raw (0, 1) is 1 -> padded (2, 3).
    assert_eq!(d.train.images.row(0)[2 * IMAGE_SIDE + 3], 1.0 / 255.0);
}

#[test]
fn gz_files_with_sums_load() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), true, true);
    let d = load_dir(dir.path(), "tiny").unwrap();
    assert_eq!(d.name, "tiny");
    check_fixture(&d);
}

#[test]
fn raw_files_without_sums_load() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), false, false);
    check_fixture(&load_dir(dir.path(), "tiny").unwrap());
    // And through the registry with a directory override.
    let d = load_dataset(DatasetName::FashionMnist, Some(dir.path())).unwrap();
    assert_eq!(d.name, "fmnist");
    check_fixture(&d);
}

#[test]
fn truncated_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), true, false);
    let mut bytes = encode_idx_images(N_TEST, 28, 28, &images(N_TEST));
    bytes.truncate(bytes.len() - 100);
    write_file(dir.path(), TEST_IMAGES_FILE, &bytes, true);
    let e = load_dir(dir.path(), "x").unwrap_err();
    assert!(matches!(e, DataError::Truncated { .. }), "{e:?}");
    assert!(e.to_string().contains(TEST_IMAGES_FILE), "{e}");
}

#[test]
fn wrong_magic_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), false, false);
    let mut bytes = encode_idx_labels(&labels(N_TRAIN));
    bytes[3] = 0x03;
    write_file(dir.path(), TRAIN_LABELS_FILE, &bytes, false);
    let e = load_dir(dir.path(), "x").unwrap_err();
    assert!(
        matches!(
            e,
            DataError::BadMagic {
                expected: 0x801,
                found: 0x803,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains(TRAIN_LABELS_FILE), "{e}");
}

#[test]
fn checksum_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), true, true);
    let sums_path = dir.path().join("SHA256SUMS");
    let text = std::fs::read_to_string(&sums_path).unwrap();
    let bad = "0".repeat(64);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let idx = lines
        .iter()
        .position(|l| l.ends_with(TEST_LABELS_FILE))
        .unwrap();
    let actual = lines[idx][..64].to_string();
    lines[idx] = format!("{bad}  {TEST_LABELS_FILE}");
    std::fs::write(&sums_path, lines.join("\n")).unwrap();
    let e = load_dir(dir.path(), "x").unwrap_err();
    assert!(matches!(e, DataError::ChecksumMismatch { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(TEST_LABELS_FILE), "{msg}");
    assert!(msg.contains(&bad) && msg.contains(&actual), "{msg}");
}

#[test]
fn unlisted_file_in_sums_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), true, true);
    let sums_path = dir.path().join("SHA256SUMS");
    let text = std::fs::read_to_string(&sums_path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.ends_with(TRAIN_LABELS_FILE))
        .collect();
    std::fs::write(&sums_path, kept.join("\n")).unwrap();
    let e = load_dir(dir.path(), "x").unwrap_err();
    assert!(matches!(e, DataError::ChecksumUnlisted { .. }), "{e:?}");
    assert!(e.to_string().contains(TRAIN_LABELS_FILE));
}

#[test]
fn count_and_shape_mismatches_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), false, false);
    write_file(
        dir.path(),
        TEST_LABELS_FILE,
        &encode_idx_labels(&labels(N_TEST + 1)),
        false,
    );
    let e = load_dir(dir.path(), "x").unwrap_err();
    assert!(matches!(e, DataError::DimensionMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains(TEST_LABELS_FILE), "{e}");

    fixture(dir.path(), false, false);
    let bytes = encode_idx_images(N_TEST, 27, 29, &images(N_TEST)[..N_TEST * 27 * 29]);
    write_file(dir.path(), TEST_IMAGES_FILE, &bytes, false);
    let e = load_dir(dir.path(), "x").unwrap_err();
    assert!(matches!(e, DataError::DimensionMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains(TEST_IMAGES_FILE) && e.to_string().contains("27x29"));

    fixture(dir.path(), false, false);
    let mut bad = labels(N_TRAIN);
    bad[3] = 11;
    write_file(
        dir.path(),
        TRAIN_LABELS_FILE,
        &encode_idx_labels(&bad),
        false,
    );
    let e = load_dir(dir.path(), "x").unwrap_err();
    assert!(
        matches!(
            e,
            DataError::InvalidLabel {
                index: 3,
                label: 11,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn missing_dir_and_file_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let e = load_dataset(DatasetName::Mnist, Some(&missing)).unwrap_err();
    assert!(matches!(e, DataError::MissingDir { .. }), "{e:?}");
    assert!(e.to_string().contains("no-such-dir"));

    fixture(dir.path(), true, false);
    std::fs::remove_file(dir.path().join(format!("{TRAIN_LABELS_FILE}.gz"))).unwrap();
    let e = load_dir(dir.path(), "x").unwrap_err();
    assert!(matches!(e, DataError::MissingFile { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("{TRAIN_LABELS_FILE}.gz")) && msg.contains(", "),
        "{msg}"
    );
}

#[test]
fn unknown_dataset_name_is_reported() {
    let e = "cifar10".parse::<DatasetName>().unwrap_err();
    assert!(matches!(e, DataError::UnknownDataset { .. }));
    let msg = e.to_string();
    assert!(msg.contains("cifar10"), "{msg}");
    for d in DatasetName::all() {
        assert!(msg.contains(d.as_str()), "{msg}");
    }
}

#[test]
#[ignore = "needs Debian's dataset-fashion-mnist (.ci/run installs it and runs the ignored tests)"]
fn fashion_mnist_loads_when_installed() {
    let d = load_dataset(DatasetName::FashionMnist, None).unwrap();
    assert_eq!((d.train.len(), d.test.len()), (60_000, 10_000));
    assert_eq!(d.train.class_counts(10), [6_000; 10]);
    assert_eq!(d.test.class_counts(10), [1_000; 10]);
}
