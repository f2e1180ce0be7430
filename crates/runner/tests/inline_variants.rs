//! A study of variants other than the nine the reference's findings name (issue 16, item 9):
//! every job runs, the findings that name absent variants are "not checkable", and the report
//! is still written (it used to panic while rendering, after every job had run).

mod common;
use common::{bakeoff, scratch, text};

const STUDY: &str = r#"
name = "inline"
dataset = "mnist"
seed = 42
variants = ["vanilla", { name = "sparse_p10", base = "sparse", bottleneck = { kind = "sparse", sparsity = 0.1, beta = 1.0 } }]
tasks = ["reconstruction", "dead_units", "anomaly_roc"]

[training]
epochs = 1
train_subset = 500

[anomaly]
latent_dim = 2
digits = [1, 7]

[evaluation]
test_subset = 300
"#;

#[test]
fn a_study_without_the_named_variants_renders_its_report() {
    let dir = scratch();
    let file = dir.path().join("inline.toml");
    std::fs::write(&file, STUDY).unwrap();
    let out = dir.path().join("out");
    let output = bakeoff(&[
        "reproduce",
        "--experiment",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("1. shallow reconstructs worst: **not checkable**"),
        "{report}"
    );
    assert!(
        report.contains("7. shallow and stacked are strong anomaly detectors: **not checkable**"),
        "{report}"
    );
    assert!(
        report.contains("shallow, stacked not in the study"),
        "{report}"
    );
    let dead = std::fs::read_to_string(out.join("tables/dead_units.csv")).unwrap();
    assert!(
        dead.starts_with("variant,seed,dead_units,latent_units\n"),
        "{dead}"
    );
    assert!(dead.contains("\nsparse_p10,42,"), "{dead}");
}
