//! `--backend`: `bakeoff train` trains in the backend asked for and the run loads back in
//! it; `bakeoff bench` measures the backend asked for; an unknown backend is rejected.

mod common;
use common::{bakeoff, scratch, text};

use ae_models::Backend;

#[test]
fn a_run_trained_in_the_autograd_backend_records_it_and_loads_back_in_it() {
    let dir = scratch();
    let out = dir.path().join("run");
    let output = bakeoff(&[
        "train",
        "--variant",
        "vanilla",
        "--backend",
        "autograd",
        "--epochs",
        "1",
        "--train-subset",
        "256",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("vanilla latent 20 (autograd)"),
        "{}",
        text(&output.stdout)
    );
    let (record, model) = ae_runner::run::load_run(&out).unwrap();
    assert_eq!(record.settings.backend, Backend::Autograd);
    assert_eq!(model.backend(), Backend::Autograd);
}

#[test]
fn an_unknown_backend_is_rejected_listing_the_known_ones() {
    let dir = scratch();
    let out = dir.path().join("run");
    let output = bakeoff(&[
        "train",
        "--variant",
        "vanilla",
        "--backend",
        "gpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    let message = text(&output.stderr);
    assert!(!output.status.success());
    for needle in ["`gpu`", "fused", "autograd"] {
        assert!(message.contains(needle), "{needle} not in: {message}");
    }
    assert!(!out.exists());
}

#[test]
fn bench_measures_the_backend_asked_for_and_by_default_the_variants_own() {
    for (backend, row) in [
        (Some("autograd"), "| vanilla | autograd |"),
        (None, "| vanilla | fused |"),
    ] {
        let mut args = vec!["bench", "--variant", "vanilla", "--batches", "2"];
        args.extend(["--repeats", "1"]);
        if let Some(b) = backend {
            args.extend(["--backend", b]);
        }
        let output = bakeoff(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        assert!(stdout.contains(row), "{row} not in: {stdout}");
    }
}
