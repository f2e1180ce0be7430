//! The reference study's published numbers, as restated in `docs/reference-study.md` ("Published numbers
//! (MNIST, one seed)"). Only MNIST has them.

/// A variant's published results.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReferenceRow {
    /// Variant name.
    pub variant: &'static str,
    /// Mean test reconstruction BCE of the latent-20 model.
    pub reconstruction_bce: f64,
    /// Linear-probe test accuracy.
    pub probe_accuracy: f64,
    /// Anomaly AUC as published: computed with the old signed-difference score, so not
    /// directly comparable with ours (docs/reference-study.md, task 5).
    pub anomaly_auc_old_score: f64,
}

/// Dataset the reference numbers belong to.
pub const REFERENCE_DATASET: &str = "mnist";

/// The reference's "trained from scratch" probe accuracy: our `random_encoder` row.
pub const RANDOM_ENCODER_ACCURACY: f64 = 0.4364;

/// Per-variant reference numbers (docs/reference-study.md, "Published numbers").
pub const REFERENCE: [ReferenceRow; 9] = [
    row("shallow", 123.2, 0.4511, 0.913),
    row("vanilla", 63.92, 0.7835, 0.797),
    row("stacked", 87.87, 0.6107, 0.866),
    row("sparse", 64.27, 0.2221, 0.828),
    row("denoising", 75.15, 0.8049, 0.781),
    row("vae", 76.12, 0.6016, 0.782),
    row("beta_vae_strict", 86.12, 0.4536, 0.810),
    row("beta_vae_loose", 69.51, 0.6311, 0.820),
    row("vq", 64.49, 0.7717, 0.818),
];

const fn row(
    variant: &'static str,
    reconstruction_bce: f64,
    probe_accuracy: f64,
    anomaly_auc_old_score: f64,
) -> ReferenceRow {
    ReferenceRow {
        variant,
        reconstruction_bce,
        probe_accuracy,
        anomaly_auc_old_score,
    }
}

/// The reference row of `variant`, if the reference has one.
pub fn reference(variant: &str) -> Option<&'static ReferenceRow> {
    REFERENCE.iter().find(|r| r.variant == variant)
}

/// How close our numbers must be to count as reproduced (the acceptance criteria):
/// reconstruction BCE within 10 % relative.
pub const BCE_RELATIVE_TOLERANCE: f64 = 0.10;
/// Probe accuracy within 0.06 absolute.
pub const PROBE_ABSOLUTE_TOLERANCE: f64 = 0.06;

/// Why the port's numbers differ from the reference run, for the report's comparison section.
pub const DIFFERENCES: &str = "\
### Where the numbers differ, and why

- **Not the same random draws.** The reference permutes the 60,000 training images with \
`torch.randperm` under seed 42; we use a seeded ChaCha8 permutation, so the 55,000/5,000 split \
and, above all, the 550 labelled images of the probe are different images. Initial weights, \
shuffles and noise follow the same distributions as PyTorch from another generator. Each \
variant is one run of one seed on both sides, so a difference of a few points in probe \
accuracy (550 labels, 20 epochs at most) is within what another seed would give; neither \
study measured that spread.
- **How large that spread is.** Engine version 2 differs from version 1 only in the order \
of its floating-point sums, and for denoising and the VAE family in how their noise is drawn. \
With the same seed, where the draws did not change (vanilla, stacked, sparse, vq), \
reconstruction BCE moved by at most 0.11%, probe accuracy by up to 0.017 (sparse 0.112 to \
0.096) and anomaly AUC by up to 0.20 (vq 0.646 to 0.444); with new noise draws BCE moved by up \
to 1.2% (denoising 75.14 to 74.26) and probe accuracy by up to 0.041 (vae 0.585 to 0.544). \
Rounding differences grow over 12,900 training steps; the latent-2 models' anomaly AUC is the \
least stable number in the report.
- **Reconstruction** agrees to within 1.2% for eight variants. Shallow reconstructs better \
than the reference's 123.2; its encoder ends in a ReLU, so how many latent units a run loses \
depends on the draw. We have not run other seeds to confirm this.
- **Probe, VAE family.** Features are sampled (`z = mu + sigma * eps`) as in the reference, \
which makes the probe noisy; the mean-latent column of the probe table is the deterministic \
alternative.
- **`random_encoder`.** Its BatchNorm layers use batch statistics on the training batches and \
their running statistics for validation and test, as PyTorch Lightning's eval mode does in \
the reference. Its accuracy is still rising at the 20-epoch cap, so it depends on the number \
of steps, and so on the 550 images drawn.
- **Anomaly AUC.** We score with the per-image BCE, as the reference's fixed code does. An unseen 1 has few lit \
pixels and costs most models *less* BCE than a typical digit, so most AUCs come out below \
0.5. The reference's AUCs (0.78 to 0.91) used the old signed-difference score, and the reference's \
finding that shallow and stacked are strong anomaly detectors comes from them. With the BCE \
score it does not hold here: see finding 7.
- **BCE form.** We evaluate BCE on logits in the stable form; the reference clamps the log \
of the sigmoid output at -100. The two differ only on saturated pixels.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_variant_has_a_reference_row() {
        for name in ae_models::variants::names() {
            assert!(reference(&name).is_some(), "{name}");
        }
        assert_eq!(reference("vq").unwrap().reconstruction_bce, 64.49);
    }
}
