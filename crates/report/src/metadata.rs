//! Where and when a report was produced: git commit, date, machine, wall times.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The provenance of a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunMetadata {
    /// `git rev-parse HEAD` of the working directory, with `-dirty` if it has uncommitted
    /// changes; `None` outside a git checkout.
    pub git_commit: Option<String>,
    /// When the report was written (UTC, ISO 8601).
    pub generated_at: String,
    /// CPU model from `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// Cores available to the process.
    pub cores: usize,
    /// Wall time of the invocation that wrote the report, seconds.
    pub invocation_seconds: f64,
    /// Jobs that invocation ran (the rest were up to date).
    pub jobs_run: usize,
    /// Sum of the wall times of every job, whenever each was computed, seconds.
    pub total_job_seconds: f64,
}

impl RunMetadata {
    /// Collects the metadata of the current process.
    pub fn collect(invocation_seconds: f64, jobs_run: usize, total_job_seconds: f64) -> Self {
        Self {
            git_commit: git_commit(),
            generated_at: utc_now(),
            cpu_model: cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            invocation_seconds,
            jobs_run,
            total_job_seconds,
        }
    }
}

fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// `secs` after the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// Seconds as a short human duration: "42.0 s", "12 min 5 s", "3 h 24 min".
pub fn human_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else if s < 3_600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3_600, s % 3_600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        // date -u -d @1709251199
        assert_eq!(format_utc(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(4.3), "4.3 s");
        assert_eq!(human_duration(725.0), "12 min 5 s");
        assert_eq!(human_duration(12_240.0), "3 h 24 min");
    }
}
