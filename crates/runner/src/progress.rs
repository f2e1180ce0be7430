//! Progress bars (indicatif), hidden when not on a terminal: one for a training run, and
//! for `reproduce` an overall bar over the jobs with the current job's bar beneath it.

use std::io::IsTerminal;

use ae_models::{EpochRecord, TrainingObserver};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws one bar over all batches of a run: epoch, batch, loss and samples/s.
pub struct TrainingBar {
    bar: ProgressBar,
    batch_size: usize,
    epochs: usize,
    verbose: bool,
}

impl TrainingBar {
    /// A bar for `epochs` epochs of `batches` batches; `verbose` also prints each epoch's losses.
    pub fn new(
        label: &str,
        epochs: usize,
        batches: usize,
        batch_size: usize,
        verbose: bool,
    ) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some((epochs * batches) as u64),
            ProgressDrawTarget::stderr(),
        );
        Self::with_bar(bar, label, epochs, batch_size, verbose)
    }

    /// As [`TrainingBar::new`], drawn by `multi` (below the bars already there).
    pub fn in_multi(
        multi: &MultiProgress,
        label: &str,
        epochs: usize,
        batches: usize,
        batch_size: usize,
    ) -> Self {
        let bar = multi.add(ProgressBar::new((epochs * batches) as u64));
        Self::with_bar(bar, label, epochs, batch_size, false)
    }

    fn with_bar(
        bar: ProgressBar,
        label: &str,
        epochs: usize,
        batch_size: usize,
        verbose: bool,
    ) -> Self {
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({per_sec}, eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        Self {
            bar,
            batch_size,
            epochs,
            verbose,
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl TrainingObserver for TrainingBar {
    fn on_batch(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64) {
        self.bar.inc(1);
        if batch.is_multiple_of(20) || batch == batches {
            let per_sec = self.bar.per_sec() * self.batch_size as f64;
            self.bar.set_message(format!(
                "epoch {epoch}/{} batch {batch}/{batches} loss {loss:.2} {per_sec:.0} samples/s",
                self.epochs
            ));
        }
    }

    fn on_epoch(&mut self, r: &EpochRecord) {
        if self.verbose {
            let line = format!(
                "epoch {:>3} (stage {}): train {:.3} (recon {:.3}), validation {:.3} (recon {:.3}), {:.1}s",
                r.epoch,
                r.stage,
                r.train.total(),
                r.train.recon,
                r.validation.total(),
                r.validation.recon,
                r.seconds
            );
            // A hidden bar (no terminal) swallows println: log lines must still reach stderr.
            if self.bar.is_hidden() {
                eprintln!("{line}");
            } else {
                self.bar.println(line);
            }
        }
    }
}

/// Progress of `bakeoff reproduce`: on a terminal an overall bar over the jobs and the
/// current job's bar; otherwise one line per finished job on stderr.
pub struct JobProgress {
    multi: MultiProgress,
    overall: ProgressBar,
    terminal: bool,
}

impl JobProgress {
    /// Progress over `total` jobs to run.
    pub fn new(total: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("jobs [{bar:30}] {pos}/{len} {elapsed_precise} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Self {
            multi,
            overall,
            terminal,
        }
    }

    /// Announces that `job` starts.
    pub fn start(&self, job: &str) {
        self.overall.set_message(job.to_string());
    }

    /// A bar for the current job when it trains.
    pub fn training_bar(
        &self,
        label: &str,
        epochs: usize,
        batches: usize,
        batch_size: usize,
    ) -> TrainingBar {
        TrainingBar::in_multi(&self.multi, label, epochs, batches, batch_size)
    }

    /// A spinner for the current job when it does not train; finish it with
    /// [`ProgressBar::finish_and_clear`].
    pub fn spinner(&self, job: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        );
        bar.set_message(job.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    }

    /// Records that `job` finished after `seconds`.
    pub fn finish(&self, job: &str, seconds: f64) {
        self.overall.inc(1);
        self.line(&format!("done {job} in {seconds:.2}s"));
    }

    /// Prints a line above the bars (or plainly, without a terminal).
    pub fn line(&self, line: &str) {
        if self.terminal {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    /// Removes the bars.
    pub fn clear(&self) {
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}
