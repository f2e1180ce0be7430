//! The study lock: keeps two `reproduce` processes from working on the same results directory
//! at once. It is an exclusive OS advisory lock ([`File::try_lock`]: `flock` on Unix,
//! `LockFileEx` on Windows) on the file [`LOCK_FILE`] in the results directory, so the kernel
//! releases it when its holder ends, however it ends; there is nothing to take over. The
//! holder writes its pid and host into the file only so that a refused process can name it;
//! the file itself stays, and its mere presence means nothing.

use std::fs::{File, TryLockError};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Name of the lock file inside the results directory.
pub const LOCK_FILE: &str = ".bakeoff.lock";

/// How long a refused process waits for a new holder to write its name into the file.
const NAME_WAIT: Duration = Duration::from_secs(1);

/// Who holds a lock, as recorded in the lock file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
}

impl Holder {
    /// The current process.
    pub fn current() -> Self {
        Self {
            pid: std::process::id(),
            host: host_name(),
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on host {}", self.pid, self.host)
    }
}

/// A held study lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct StudyLock {
    file: File,
    path: PathBuf,
}

impl StudyLock {
    /// Takes the lock of the results directory `dir` (which must exist). When another process
    /// holds it, waits up to `wait` for it to be released, then fails with an error naming
    /// the holder.
    pub fn acquire(dir: &Path, wait: Duration) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening lock {}", path.display()))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    write_holder(&mut file, &Holder::current())
                        .with_context(|| format!("writing lock {}", path.display()))?;
                    return Ok(Self { file, path });
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("locking {}", path.display()))
                }
            }
            if Instant::now() >= deadline {
                let holder = read_holder(&path).map_or_else(
                    || "a process that has not yet recorded its pid".to_string(),
                    |h| h.to_string(),
                );
                bail!(
                    "{} is locked by another bakeoff process ({holder}); wait for it to finish \
                     (the lock on {} is released when it ends)",
                    dir.display(),
                    path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StudyLock {
    /// Clears the holder's name; closing the file then releases the lock.
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// Replaces the lock file's content with `me`.
fn write_holder(file: &mut File, me: &Holder) -> std::io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(&serde_json::to_vec(me).expect("holder serialises"))?;
    file.flush()
}

/// The holder named in the lock file at `path`, waiting up to [`NAME_WAIT`] for a holder that
/// has just taken the lock to write its name; `None` if none is readable by then (as on
/// Windows, where a locked file cannot be read by others).
fn read_holder(path: &Path) -> Option<Holder> {
    let deadline = Instant::now() + NAME_WAIT;
    loop {
        let holder = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        if holder.is_some() || Instant::now() >= deadline {
            return holder;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// This machine's host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    use super::*;

    /// Set in the child process of [`a_killed_holder_in_another_process_frees_the_lock_at_once`]
    /// to the directory whose lock it takes.
    const CHILD_DIR: &str = "BAKEOFF_LOCK_TEST_HOLD";

    #[test]
    fn second_taker_is_refused_with_the_holder_named_and_may_take_it_after_release() {
        let dir = tempfile::tempdir().unwrap();
        let lock = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let err = StudyLock::acquire(dir.path(), Duration::from_millis(250)).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains(&format!(
                "locked by another bakeoff process (pid {} on host {})",
                std::process::id(),
                host_name()
            )) && message.contains(LOCK_FILE),
            "{message}"
        );
        drop(lock);
        let again = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap();
        assert_eq!(read_holder(again.path()), Some(Holder::current()));
    }

    #[test]
    fn waiting_taker_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let lock = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(lock);
        });
        let start = Instant::now();
        StudyLock::acquire(dir.path(), Duration::from_secs(30)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(250));
        release.join().unwrap();
    }

    #[test]
    fn a_leftover_lock_file_without_a_holder_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        std::fs::write(
            &path,
            br#"{"pid": 1, "host": "elsewhere", "junk": "longer than ours"}"#,
        )
        .unwrap();
        let lock = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap();
        assert_eq!(read_holder(&path), Some(Holder::current()));
        drop(lock);
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }

    /// The child half of the next test: takes the lock, says so, and sleeps until killed. A
    /// no-op unless [`CHILD_DIR`] is set.
    #[test]
    fn child_holding_the_lock() {
        let Some(dir) = std::env::var_os(CHILD_DIR) else {
            return;
        };
        let _lock = StudyLock::acquire(Path::new(&dir), Duration::ZERO).unwrap();
        // libtest may have begun the line with the test's name.
        println!("\nlock held");
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_secs(120));
    }

    #[test]
    fn a_killed_holder_in_another_process_frees_the_lock_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "lock::tests::child_holding_the_lock",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let locked = stdout
            .lines()
            .map_while(|l| l.ok())
            .any(|l| l.ends_with("lock held"));
        assert!(locked, "the child never took the lock");

        let err = StudyLock::acquire(dir.path(), Duration::from_millis(200)).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains(&format!(
                "locked by another bakeoff process (pid {} on host {})",
                child.id(),
                host_name()
            )),
            "{message}"
        );

        // SIGKILL on Unix: the child cannot release anything itself.
        child.kill().unwrap();
        child.wait().unwrap();
        let start = Instant::now();
        let lock = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(read_holder(lock.path()), Some(Holder::current()));
    }
}
