//! Helpers shared by the runner's integration tests (each test binary uses some of them).
#![allow(dead_code)]

use std::process::{Command, Output};

/// A scratch directory under cargo's target directory, removed when dropped.
///
/// The runs written here hold checkpoints (tens of MB per test); the target directory's
/// disk is the one the build already needs, whereas `/tmp` may be a small tmpfs.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a scratch directory in the target directory")
}

/// Engine threads of each `bakeoff` a test spawns: the tests run side by side, so a spawned
/// study must not take every core of a large machine (on two cores this is all of them).
pub const SPAWNED_THREADS: &str = "2";

/// Runs the `bakeoff` binary with `args` and returns what it did.
pub fn bakeoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .env("RAYON_NUM_THREADS", SPAWNED_THREADS)
        .args(args)
        .output()
        .expect("bakeoff runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
