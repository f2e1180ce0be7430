//! Progress bars for training runs (indicatif), hidden when not on a terminal.

use ae_models::{EpochRecord, TrainingObserver};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
