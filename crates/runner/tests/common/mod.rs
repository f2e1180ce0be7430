//! Helpers shared by the runner's integration tests.

/// A scratch directory under cargo's target directory, removed when dropped.
///
/// The runs written here hold checkpoints (tens of MB per test); the target directory's
/// disk is the one the build already needs, whereas `/tmp` may be a small tmpfs.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a scratch directory in the target directory")
}
