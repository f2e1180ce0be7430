//! Command-line errors: bad experiment files and bad `train` arguments fail early, with a
//! non-zero exit and a message naming what is wrong, and write nothing.

mod common;
use common::{bakeoff, scratch, text};

use std::path::Path;
use std::process::Output;

fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

const VALID: &str = r#"
dataset = "mnist"
seed = 42
variants = ["vanilla", "vae"]

[training]
epochs = 1
train_subset = 100

[general]
latent_dim = 20
"#;

/// Runs `reproduce` on an experiment file with `text`, expecting a failure that mentions
/// every one of `needles` and leaves the output directory unwritten.
fn rejected(text: &str, needles: &[&str]) {
    let dir = scratch();
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    let output = bakeoff(&[
        "reproduce",
        "--experiment",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let message = stderr(&output);
    assert!(!output.status.success(), "accepted:\n{text}");
    assert!(message.contains("broken.toml"), "file not named: {message}");
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} not in: {message}");
    }
    assert!(
        !out.exists(),
        "results were written for a rejected experiment"
    );
}

#[test]
fn experiment_with_an_unknown_key_is_rejected() {
    rejected(
        &VALID.replace("epochs = 1", "epochs = 1\nepoch = 2"),
        &["unknown field `epoch`"],
    );
    rejected(&format!("colour = 3\n{VALID}"), &["unknown field `colour`"]);
}

#[test]
fn experiment_with_an_invalid_value_is_rejected() {
    rejected(
        &VALID.replace("latent_dim = 20", "latent_dim = 0"),
        &["general.latent_dim"],
    );
    rejected(
        &VALID.replace("epochs = 1", "epochs = 0"),
        &["training.epochs"],
    );
    rejected(
        &format!("{VALID}\n[anomaly]\nlatent_dim = 2\ndigit = 10\n"),
        &["anomaly.digit"],
    );
    rejected(
        &VALID.replace("\"mnist\"", "\"cifar\""),
        &["dataset", "cifar"],
    );
    rejected(&VALID.replace("seed = 42", "seed = \"x\""), &["seed"]);
}

#[test]
fn experiment_with_an_unknown_variant_is_rejected() {
    rejected(
        &VALID.replace("\"vae\"]", "\"vea\"]"),
        &["variants[1]", "unknown variant `vea`", "beta_vae_strict"],
    );
}

#[test]
fn missing_experiment_file_is_named() {
    let output = bakeoff(&["reproduce", "--experiment", "/nonexistent/study.toml"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("/nonexistent/study.toml"));
}

#[test]
fn only_rejects_a_variant_outside_the_experiment() {
    let dir = scratch();
    let file = dir.path().join("two.toml");
    std::fs::write(&file, VALID).unwrap();
    let out = dir.path().join("out");
    let output = bakeoff(&[
        "reproduce",
        "--experiment",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--only",
        "vq",
    ]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--only vq"), "{}", stderr(&output));
    assert!(!out.exists());
}

#[test]
fn train_rejects_an_unknown_variant_listing_the_known_ones() {
    let dir = scratch();
    let out = dir.path().join("run");
    let output = bakeoff(&[
        "train",
        "--variant",
        "vanila",
        "--out",
        out.to_str().unwrap(),
    ]);
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("unknown variant `vanila`"), "{message}");
    for known in ae_models::variants::names() {
        assert!(message.contains(&known), "{known} not listed: {message}");
    }
    assert!(!out.exists());
}

#[test]
fn train_names_a_missing_data_dir() {
    let dir = scratch();
    let missing = dir.path().join("no-such-mnist");
    let out = dir.path().join("run");
    let output = bakeoff(&[
        "train",
        "--variant",
        "vanilla",
        "--data-dir",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(
        message.contains(missing.to_str().unwrap()),
        "directory not named: {message}"
    );
    assert!(!Path::new(&out).exists());
}
