//! The study lock: a file in the results directory that keeps two `reproduce` processes from
//! working on the same study at once. It records the holder's pid, host and process start
//! time; it is created atomically (`O_EXCL`), removed when the holder ends, and taken over
//! when its holder is dead (same host, and the pid is gone or now names another process).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Name of the lock file inside the results directory.
pub const LOCK_FILE: &str = ".bakeoff.lock";

/// Who holds a lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// The process's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22), so
    /// that a recycled pid is not mistaken for the holder; `None` where unknown.
    pub started: Option<u64>,
}

impl Holder {
    /// The current process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            host: host_name(),
            started: process_start(pid),
        }
    }

    /// Whether the holder has certainly ended: it ran on this host and its pid is gone or
    /// belongs to a process started at another time. A holder on another host is never
    /// presumed dead.
    pub fn is_dead(&self) -> bool {
        if self.host != host_name() {
            return false;
        }
        match process_start(self.pid) {
            None => true,
            Some(started) => self.started.is_some_and(|s| s != started),
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on host {}", self.pid, self.host)
    }
}

/// A held study lock; dropping it removes the lock file.
#[derive(Debug)]
pub struct StudyLock {
    path: PathBuf,
}

impl StudyLock {
    /// Takes the lock of the results directory `dir` (which must exist). When another live
    /// process holds it, waits up to `wait` for it to be released, then fails with an error
    /// naming the holder. A lock left by a dead process is taken over.
    pub fn acquire(dir: &Path, wait: Duration) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let me = Holder::current();
        let deadline = Instant::now() + wait;
        loop {
            match try_create(&path, &me) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("creating lock {}", path.display()))
                }
            }
            match read_holder(&path) {
                // Released between our attempt and the read: try again at once.
                Ok(None) => continue,
                Ok(Some(holder)) if holder.is_dead() => {
                    take_over(&path, &holder)?;
                    continue;
                }
                Ok(Some(holder)) => {
                    if Instant::now() >= deadline {
                        bail!(
                            "{} is locked by another bakeoff process ({holder}); wait for it to \
                             finish, or delete {} if that process no longer exists",
                            dir.display(),
                            path.display()
                        );
                    }
                }
                // A lock file being written right now reads as garbage for an instant; a
                // lasting one is reported.
                Err(e) => {
                    if Instant::now() >= deadline + Duration::from_secs(1) {
                        return Err(e);
                    }
                }
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
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn try_create(path: &Path, me: &Holder) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let bytes = serde_json::to_vec(me).expect("holder serialises");
    let written = file.write_all(&bytes).and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// The holder recorded in `path`, or `None` when there is no lock file.
fn read_holder(path: &Path) -> Result<Option<Holder>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading lock {}", path.display())),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .with_context(|| format!("lock {} is not a bakeoff lock; delete it", path.display()))
}

/// Removes the stale lock of `dead` without ever removing a live process's lock: the file is
/// first moved aside, and if what was moved turns out to be another (new) holder's lock, it
/// is put back (`hard_link` does not overwrite, so a third process's lock is never clobbered).
fn take_over(path: &Path, dead: &Holder) -> Result<()> {
    let me = std::process::id();
    let aside = path.with_extension(format!("stale.{me}"));
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("taking over {}", path.display())),
    }
    let moved = read_holder(&aside).ok().flatten();
    if moved.as_ref() != Some(dead) {
        let _ = std::fs::hard_link(&aside, path);
    }
    let _ = std::fs::remove_file(&aside);
    Ok(())
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

/// Start time of process `pid` (field 22 of `/proc/<pid>/stat`), `None` if it does not exist.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: count from its end.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_is_refused_with_the_holder_named_and_may_take_it_after_release() {
        let dir = tempfile::tempdir().unwrap();
        let lock = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let err = StudyLock::acquire(dir.path(), Duration::from_millis(250)).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains(&format!("pid {}", std::process::id()))
                && message.contains(&host_name())
                && message.contains(LOCK_FILE),
            "{message}"
        );
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        let again = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap();
        assert!(again.path().is_file());
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
    fn lock_of_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // A process that has certainly ended: spawned and waited for.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = Holder {
            pid,
            host: host_name(),
            started: Some(1),
        };
        std::fs::write(
            dir.path().join(LOCK_FILE),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
        assert!(dead.is_dead());
        let lock = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let holder = read_holder(lock.path()).unwrap().unwrap();
        assert_eq!(holder, Holder::current());
        // Nothing left beside the lock.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_recycled_pid_does_not_keep_a_lock_alive_but_another_host_does() {
        let me = Holder::current();
        assert!(me.started.is_some());
        assert!(!me.is_dead());
        let recycled = Holder {
            started: me.started.map(|s| s + 1),
            ..me.clone()
        };
        assert!(recycled.is_dead());
        let elsewhere = Holder {
            pid: u32::MAX,
            host: format!("{}-elsewhere", host_name()),
            started: None,
        };
        assert!(!elsewhere.is_dead());
    }

    #[test]
    fn a_foreign_lock_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), b"not json").unwrap();
        let err = StudyLock::acquire(dir.path(), Duration::ZERO).unwrap_err();
        assert!(format!("{err:#}").contains(LOCK_FILE), "{err:#}");
    }

    #[test]
    fn process_start_reads_the_stat_field_after_the_command_name() {
        // /proc/self/stat of this process: field 22 is a number, and it is stable.
        let a = process_start(std::process::id()).unwrap();
        let b = process_start(std::process::id()).unwrap();
        assert_eq!(a, b);
        assert!(process_start(u32::MAX).is_none());
    }
}
