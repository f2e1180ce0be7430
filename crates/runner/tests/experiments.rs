//! Every committed experiment file loads, the extended study keeps the nine in their
//! accelerated backend beside the families in autograd, and the committed studies find their
//! results in the job store.

use std::path::{Path, PathBuf};

use ae_models::Backend;
use ae_runner::experiment::Experiment;
use ae_runner::plan::{Cache, Plan, CHECKPOINTS_DIR};

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
    // `conv` runs on candle's own CPU convolutions, about 3 hours per 60-epoch training on
    // two cores (README, "Speed"): left out until it has fast operations of its own.
    const LEFT_OUT: [&str; 1] = ["conv"];
    let registered: Vec<String> = ae_models::variants::all()
        .into_iter()
        .filter(|v| v.family.is_some() && !LEFT_OUT.contains(&v.name.as_str()))
        .map(|v| v.name)
        .collect();
    for name in &registered {
        assert!(
            e.variants.contains(name),
            "{name} is not in the extended study"
        );
    }
    assert_eq!(families, registered.len());
    assert_eq!(e.variants.len(), 9 + registered.len());
}

/// A fresh clone finds every result a committed report was rendered from in the job store,
/// under the key the experiment file gives the job today (a change of keys, or of the store's
/// layout, would silently make a clone recompute the committed studies). Returns how many
/// results it checked.
fn check_committed_studies(dataset: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let store = root.join("results/store");
    let mut checked = 0;
    for file in experiments() {
        let e = Experiment::load(&file).unwrap();
        let results = root.join("results").join(&e.name).join("results.json");
        let Ok(bytes) = std::fs::read(&results) else {
            continue;
        };
        if e.dataset_name().unwrap().to_string() != dataset {
            continue;
        }
        let plan = Plan::new(&e, &e.variants).unwrap();
        let cache = Cache::new(&store, &store.join(CHECKPOINTS_DIR), &plan);
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let rendered: Vec<&str> = json["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| !j["seconds"].is_null())
            .map(|j| j["job"].as_str().unwrap())
            .collect();
        assert!(!rendered.is_empty(), "{}", results.display());
        for name in rendered {
            let job = plan
                .job(name)
                .unwrap_or_else(|| panic!("{} plans no {name}", file.display()));
            assert!(
                cache.has_result(job),
                "{}: no current result for {name} in {}",
                e.name,
                cache.result_path(job).display()
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn committed_mnist_studies_find_their_results_in_the_store() {
    let checked = check_committed_studies("mnist");
    assert!(checked > 500, "only {checked} committed results checked");
}

#[test]
#[ignore = "needs Debian's dataset-fashion-mnist (.ci/run installs it and runs the ignored tests)"]
fn the_committed_fashion_mnist_study_finds_its_results_in_the_store() {
    let checked = check_committed_studies("fmnist");
    assert!(checked > 50, "only {checked} committed results checked");
}
