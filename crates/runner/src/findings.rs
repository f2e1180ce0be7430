//! SPEC's qualitative findings ("Qualitative findings a correct port should show"), checked
//! one by one against our numbers where a number can decide them; the visual ones point
//! at the images.

use serde::Serialize;

use crate::results::StudyResults;

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The numbers show the finding.
    Pass,
    /// The numbers contradict it.
    Fail,
    /// A result it needs is missing (variant not run, job not done).
    NotCheckable,
    /// Judged by eye from the figures.
    SeeImages,
}

impl Verdict {
    /// Short label for the report.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::NotCheckable => "not checkable",
            Verdict::SeeImages => "see images",
        }
    }
}

/// One finding of SPEC, with our verdict and the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The finding, in SPEC's words.
    pub claim: String,
    /// How we decide it.
    pub criterion: String,
    /// Our verdict.
    pub verdict: Verdict,
    /// The numbers (or images) that decided it.
    pub evidence: String,
}

/// Values of one metric per variant, sorted best first.
struct Ranking {
    /// (variant, value), best first.
    order: Vec<(String, f64)>,
}

impl Ranking {
    /// `None` unless every variant in `needed` has a value.
    fn new(
        results: &StudyResults,
        metric: impl Fn(&crate::results::VariantResults) -> Option<f64>,
        higher_is_better: bool,
        needed: &[&str],
    ) -> Result<Self, String> {
        let mut order: Vec<(String, f64)> = results
            .variants
            .iter()
            .filter_map(|v| metric(v).map(|x| (v.variant.clone(), x)))
            .collect();
        let missing: Vec<&str> = needed
            .iter()
            .copied()
            .filter(|n| !order.iter().any(|(v, _)| v == n))
            .collect();
        if !missing.is_empty() {
            return Err(format!("no result for {}", missing.join(", ")));
        }
        if order.len() < 2 {
            return Err("fewer than two variants have results".into());
        }
        order.sort_by(|a, b| {
            let o = a.1.total_cmp(&b.1);
            if higher_is_better {
                o.reverse()
            } else {
                o
            }
        });
        Ok(Self { order })
    }

    fn rank(&self, variant: &str) -> usize {
        self.order
            .iter()
            .position(|(v, _)| v == variant)
            .expect("checked")
            + 1
    }

    fn value(&self, variant: &str) -> f64 {
        self.order
            .iter()
            .find(|(v, _)| v == variant)
            .expect("checked")
            .1
    }

    fn list(&self, decimals: usize) -> String {
        self.order
            .iter()
            .map(|(v, x)| format!("{v} {x:.decimals$}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn finding(claim: &str, criterion: &str, outcome: Result<(bool, String), String>) -> Finding {
    let (verdict, evidence) = match outcome {
        Ok((true, e)) => (Verdict::Pass, e),
        Ok((false, e)) => (Verdict::Fail, e),
        Err(e) => (Verdict::NotCheckable, e),
    };
    Finding {
        claim: claim.into(),
        criterion: criterion.into(),
        verdict,
        evidence,
    }
}

fn bce(v: &crate::results::VariantResults) -> Option<f64> {
    v.reconstruction.as_ref().map(|r| r.mean_bce)
}

fn probe(v: &crate::results::VariantResults) -> Option<f64> {
    v.probe.as_ref().map(|p| p.sampled.test_accuracy)
}

fn auc(v: &crate::results::VariantResults) -> Option<f64> {
    v.anomaly.as_ref().map(|a| a.auc)
}

/// Checks every finding of SPEC's last paragraph against `results`.
pub fn check(results: &StudyResults) -> Vec<Finding> {
    let mut out = Vec::new();

    out.push(finding(
        "shallow reconstructs worst",
        "shallow has the highest test BCE of all variants",
        Ranking::new(results, bce, false, &["shallow"]).map(|r| {
            let worst = r.rank("shallow") == r.order.len();
            (worst, format!("BCE, best to worst: {}", r.list(2)))
        }),
    ));

    let best = ["vanilla", "sparse", "vq"];
    out.push(finding(
        "vanilla, sparse and vq reconstruct best",
        "vanilla, sparse and vq have the three lowest test BCEs",
        Ranking::new(results, bce, false, &best).map(|r| {
            let ok = best.iter().all(|v| r.rank(v) <= best.len());
            let ranks: Vec<String> = best
                .iter()
                .map(|v| format!("{v} rank {} ({:.2})", r.rank(v), r.value(v)))
                .collect();
            (ok, ranks.join(", "))
        }),
    ));

    out.push(finding(
        "denoising gives the best probe",
        "denoising has the highest linear-probe accuracy of all variants",
        Ranking::new(results, probe, true, &["denoising"]).map(|r| {
            (
                r.rank("denoising") == 1,
                format!("accuracy, best to worst: {}", r.list(4)),
            )
        }),
    ));

    out.push(finding(
        "sparse gives the worst probe, below the baseline",
        "sparse has the lowest probe accuracy and is below the random_encoder baseline",
        Ranking::new(results, probe, true, &["sparse"]).and_then(|r| {
            let baseline = results
                .random_encoder
                .as_ref()
                .map(|b| b.test_accuracy)
                .ok_or("no random_encoder result")?;
            let sparse = r.value("sparse");
            let worst = r.rank("sparse") == r.order.len();
            Ok((
                worst && sparse < baseline,
                format!(
                    "sparse {sparse:.4} (rank {} of {}), random_encoder {baseline:.4}; worst: {} {:.4}",
                    r.rank("sparse"),
                    r.order.len(),
                    r.order.last().expect("two or more").0,
                    r.order.last().expect("two or more").1
                ),
            ))
        }),
    ));

    out.push(Finding {
        claim:
            "beta_vae_strict gives the most digit-like samples, vq samples look least like digits"
                .into(),
        criterion: "visual".into(),
        verdict: Verdict::SeeImages,
        evidence: "samples/beta_vae_strict.png, samples/vq.png and the other samples/*.png".into(),
    });

    out.push(Finding {
        claim: "only the VAE family interpolates meaningfully".into(),
        criterion: "visual".into(),
        verdict: Verdict::SeeImages,
        evidence: "interpolation/*.png (strips) and interpolation/*.gif".into(),
    });

    let strong = ["shallow", "stacked"];
    out.push(finding(
        "shallow and stacked are strong anomaly detectors",
        "shallow and stacked both rank among the three highest anomaly AUCs",
        Ranking::new(results, auc, true, &strong).map(|r| {
            let ok = strong.iter().all(|v| r.rank(v) <= 3);
            (ok, format!("AUC, best to worst: {}", r.list(4)))
        }),
    ));
    out
}
