//! Every committed experiment file loads, and the extended study keeps the nine in their
//! accelerated backend beside the families in autograd.

use std::path::{Path, PathBuf};

use ae_models::Backend;
use ae_runner::experiment::Experiment;

fn experiments() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_experiment_file_loads() {
    let files = experiments();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let e = Experiment::load(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        assert!(!e.variants.is_empty(), "{}", file.display());
    }
}

#[test]
fn the_extended_study_runs_the_nine_fused_and_every_family_in_autograd() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/mnist-extended.toml");
    let e = Experiment::load(&file).unwrap();
    let mut families = 0;
    for name in &e.variants {
        let variant = e.variant(name).unwrap();
        let expected = if variant.family.is_some() {
            families += 1;
            Backend::Autograd
        } else {
            Backend::Fused
        };
        assert_eq!(Backend::default_for(&variant), expected, "{name}");
    }
    let registered = ae_models::variants::all()
        .iter()
        .filter(|v| v.family.is_some())
        .count();
    assert_eq!(
        families, registered,
        "every registered family is in the extended study"
    );
    assert_eq!(e.variants.len(), 9 + registered);
}
