//! The reference's qualitative findings (`docs/reference-study.md`, "The findings the
//! reference states"), checked in every seed and summarised over the seeds: "holds in k of n seeds",
//! paired differences between the variants a finding compares (mean and 95% interval over
//! the seeds), under the reference's protocol and, where we run a better one, under ours.
//! The visual findings point at the images.

use serde::Serialize;

use ae_eval::stats::{paired_difference, Summary};

use crate::results::{SeedResults, StudyResults, VariantResults};

/// The outcome of one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It holds in every seed, and every paired difference's 95% interval lies on its side.
    Holds,
    /// It fails in every seed, or a paired difference's interval lies on the wrong side.
    DoesNotHold,
    /// It holds under the reference's protocol only, not under the corrected or converged one.
    ProtocolDependent,
    /// Mixed across seeds, or an interval covers zero.
    Inconclusive,
    /// A result it needs is missing (variant not run, job not done).
    NotCheckable,
    /// Judged by eye from the figures.
    SeeImages,
}

impl Verdict {
    /// Short label for the report.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::DoesNotHold => "does not hold",
            Verdict::ProtocolDependent => "protocol-dependent",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotCheckable => "not checkable",
            Verdict::SeeImages => "see images",
        }
    }
}

/// A paired comparison across seeds: the per-seed difference `a - b`, oriented so that a
/// positive difference supports the finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairedComparison {
    /// What is compared, e.g. "BCE(shallow) - BCE(stacked)".
    pub description: String,
    /// The per-seed differences summarised (n, mean, sd, 95% interval).
    pub difference: Summary,
}

impl PairedComparison {
    /// Whether the 95% interval lies above zero (`Some(true)`), below (`Some(false)`), or
    /// covers it or does not exist (`None`).
    fn side(&self) -> Option<bool> {
        match (self.difference.ci_low, self.difference.ci_high) {
            (Some(lo), _) if lo > 0.0 => Some(true),
            (_, Some(hi)) if hi < 0.0 => Some(false),
            _ => None,
        }
    }
}

/// A finding checked under one protocol.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProtocolCheck {
    /// The protocol, e.g. "reference probe (Adam, early stopping)".
    pub protocol: String,
    /// Seeds in which the finding holds.
    pub holds_in: usize,
    /// Seeds with every result the check needs.
    pub seeds: usize,
    /// The paired comparisons that decide it.
    pub comparisons: Vec<PairedComparison>,
    /// The verdict under this protocol alone.
    pub verdict: Verdict,
    /// The numbers per seed, for the reader.
    pub evidence: String,
}

/// One finding with its checks and the overall verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The finding, in the reference's words.
    pub claim: String,
    /// How we decide it in one seed.
    pub criterion: String,
    /// The overall verdict.
    pub verdict: Verdict,
    /// One check per protocol: the reference's first, then ours where it differs.
    pub checks: Vec<ProtocolCheck>,
    /// For the visual findings: where to look; otherwise a one-line summary.
    pub evidence: String,
}

/// One metric of every variant of one seed.
type SeedValues = Vec<(String, f64)>;

/// One complete seed: its number, its variants' values and the baseline's value.
type SeedRow = (u64, SeedValues, Option<f64>);

/// The baseline's value in one seed.
type BaselineFn<'a> = &'a dyn Fn(&SeedResults) -> Option<f64>;

/// Whether a finding holds in one seed, owned.
type HoldsBox = Box<dyn Fn(&SeedValues, Option<f64>) -> bool>;

/// A finding's paired comparisons, owned.
type ComparisonsBox = Box<dyn Fn(&[SeedRow]) -> Vec<Option<PairedComparison>>>;

/// A finding's paired comparisons over the complete seeds.
type ComparisonsFn<'a> = &'a dyn Fn(&[SeedRow]) -> Vec<Option<PairedComparison>>;

/// A metric as a finding reads it.
pub struct MetricSpec<'a> {
    /// The protocol's name.
    pub protocol: &'a str,
    /// The variant's value in a seed.
    pub value: &'a dyn Fn(&VariantResults) -> Option<f64>,
    /// The random_encoder baseline's value in a seed, where the finding needs it.
    pub baseline: Option<BaselineFn<'a>>,
}

/// The seeds in which every variant of the study has a value (and the baseline, if asked):
/// a finding ranks all of them, so a seed still under way does not count.
fn complete_seeds(
    results: &StudyResults,
    spec: &MetricSpec<'_>,
    needed: &[&str],
) -> Result<Vec<SeedRow>, String> {
    let mut out = Vec::new();
    for seed in &results.seeds {
        let values: SeedValues = seed
            .variants
            .iter()
            .filter_map(|v| (spec.value)(v).map(|x| (v.variant.clone(), x)))
            .collect();
        let baseline = spec.baseline.map(|b| b(seed));
        let has_all = needed.iter().all(|n| values.iter().any(|(v, _)| v == n))
            && values.len() == results.variants.len();
        if has_all && values.len() >= 2 && !matches!(baseline, Some(None)) {
            out.push((seed.seed, values, baseline.flatten()));
        }
    }
    if out.is_empty() {
        let missing: Vec<&str> = needed
            .iter()
            .copied()
            .filter(|n| !results.variants.iter().any(|v| v == n))
            .collect();
        return Err(if missing.is_empty() {
            "no seed has every result it needs".into()
        } else {
            format!("variants not in the study: {}", missing.join(", "))
        });
    }
    Ok(out)
}

fn value(values: &SeedValues, variant: &str) -> f64 {
    values
        .iter()
        .find(|(v, _)| v == variant)
        .expect("checked complete")
        .1
}

/// The mean over the complete seeds of each variant, highest first.
fn by_mean(seeds: &[SeedRow]) -> Vec<(String, f64)> {
    let mut means: Vec<(String, f64)> = seeds[0]
        .1
        .iter()
        .map(|(v, _)| {
            let xs: Vec<f64> = seeds
                .iter()
                .filter_map(|(_, vals, _)| vals.iter().find(|(w, _)| w == v).map(|p| p.1))
                .collect();
            (v.clone(), xs.iter().sum::<f64>() / xs.len() as f64)
        })
        .collect();
    means.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    means
}

/// `a - b` per seed, summarised, as a comparison named `description`.
fn paired(
    seeds: &[SeedRow],
    description: String,
    a: impl Fn(&SeedValues, Option<f64>) -> f64,
    b: impl Fn(&SeedValues, Option<f64>) -> f64,
) -> Option<PairedComparison> {
    let xs: Vec<f64> = seeds.iter().map(|(_, v, base)| a(v, *base)).collect();
    let ys: Vec<f64> = seeds.iter().map(|(_, v, base)| b(v, *base)).collect();
    paired_difference(&xs, &ys).map(|difference| PairedComparison {
        description,
        difference,
    })
}

/// The verdict of one protocol from k of n and the paired comparisons.
fn protocol_verdict(holds_in: usize, seeds: usize, comparisons: &[PairedComparison]) -> Verdict {
    let sides: Vec<Option<bool>> = comparisons.iter().map(PairedComparison::side).collect();
    if sides.contains(&Some(false)) || holds_in == 0 {
        Verdict::DoesNotHold
    } else if holds_in == seeds && (seeds == 1 || sides.iter().all(|s| *s == Some(true))) {
        Verdict::Holds
    } else {
        Verdict::Inconclusive
    }
}

/// The overall verdict from the reference protocol's check and, if any, ours.
fn overall(checks: &[ProtocolCheck]) -> Verdict {
    match checks {
        [] => Verdict::NotCheckable,
        [only] => only.verdict,
        [reference, ours, ..] => match (reference.verdict, ours.verdict) {
            (_, Verdict::Holds) => Verdict::Holds,
            (Verdict::Holds, _) => Verdict::ProtocolDependent,
            (Verdict::DoesNotHold, Verdict::DoesNotHold) => Verdict::DoesNotHold,
            (Verdict::NotCheckable, v) | (v, Verdict::NotCheckable) => v,
            _ => Verdict::Inconclusive,
        },
    }
}

fn list(values: &SeedValues, decimals: usize, higher_first: bool) -> String {
    let mut sorted = values.clone();
    sorted.sort_by(|a, b| {
        let o = a.1.total_cmp(&b.1);
        if higher_first {
            o.reverse()
        } else {
            o
        }
    });
    sorted
        .iter()
        .map(|(v, x)| format!("{v} {x:.decimals$}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A finding's per-seed rule: whether it holds in one seed, its paired comparisons over the
/// complete seeds, and the seed's numbers for the evidence.
struct Rule<'a> {
    needed: &'a [&'a str],
    higher_is_better: bool,
    decimals: usize,
    holds: &'a dyn Fn(&SeedValues, Option<f64>) -> bool,
    comparisons: ComparisonsFn<'a>,
}

fn check_protocol(results: &StudyResults, spec: &MetricSpec<'_>, rule: &Rule<'_>) -> ProtocolCheck {
    let not_checkable = |why: String| ProtocolCheck {
        protocol: spec.protocol.into(),
        holds_in: 0,
        seeds: 0,
        comparisons: Vec::new(),
        verdict: Verdict::NotCheckable,
        evidence: why,
    };
    let seeds = match complete_seeds(results, spec, rule.needed) {
        Ok(s) => s,
        Err(why) => return not_checkable(why),
    };
    let holds_in = seeds
        .iter()
        .filter(|(_, v, base)| (rule.holds)(v, *base))
        .count();
    let comparisons: Vec<PairedComparison> =
        (rule.comparisons)(&seeds).into_iter().flatten().collect();
    let evidence = seeds
        .iter()
        .map(|(seed, v, base)| {
            let base = base.map_or(String::new(), |b| format!("; random_encoder {b:.4}"));
            format!(
                "seed {seed}: {}{base}",
                list(v, rule.decimals, rule.higher_is_better)
            )
        })
        .collect::<Vec<_>>()
        .join(" / ");
    ProtocolCheck {
        protocol: spec.protocol.into(),
        holds_in,
        seeds: seeds.len(),
        verdict: protocol_verdict(holds_in, seeds.len(), &comparisons),
        comparisons,
        evidence,
    }
}

fn finding(claim: &str, criterion: &str, checks: Vec<ProtocolCheck>) -> Finding {
    let verdict = overall(&checks);
    let evidence = checks
        .iter()
        .map(|c| {
            let comparisons = c
                .comparisons
                .iter()
                .map(|p| format!("{}: {}", p.description, difference_text(&p.difference)))
                .collect::<Vec<_>>()
                .join("; ");
            format!(
                "{}: holds in {} of {} seeds, {}{}",
                c.protocol,
                c.holds_in,
                c.seeds,
                c.verdict.label(),
                if comparisons.is_empty() {
                    String::new()
                } else {
                    format!(" ({comparisons})")
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Finding {
        claim: claim.into(),
        criterion: criterion.into(),
        verdict,
        checks,
        evidence,
    }
}

/// "mean [low, high]" of a difference (the mean alone for one seed).
pub fn difference_text(d: &Summary) -> String {
    match (d.ci_low, d.ci_high) {
        (Some(lo), Some(hi)) => format!("{:+.4} [{lo:+.4}, {hi:+.4}]", d.mean),
        _ => format!("{:+.4} (one seed)", d.mean),
    }
}

/// The variants other than `excluded`, by mean, highest first.
fn others(seeds: &[SeedRow], excluded: &[&str]) -> Vec<String> {
    by_mean(seeds)
        .into_iter()
        .map(|(v, _)| v)
        .filter(|v| !excluded.contains(&v.as_str()))
        .collect()
}

fn max_except(values: &SeedValues, excluded: &[&str]) -> f64 {
    values
        .iter()
        .filter(|(v, _)| !excluded.contains(&v.as_str()))
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max)
}

fn min_except(values: &SeedValues, excluded: &[&str]) -> f64 {
    values
        .iter()
        .filter(|(v, _)| !excluded.contains(&v.as_str()))
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
}

/// The `k`-th highest value (1-based) among the variants other than `excluded`.
fn kth_highest_except(values: &SeedValues, excluded: &[&str], k: usize) -> f64 {
    let mut xs: Vec<f64> = values
        .iter()
        .filter(|(v, _)| !excluded.contains(&v.as_str()))
        .map(|p| p.1)
        .collect();
    xs.sort_by(|a, b| b.total_cmp(a));
    xs.get(k - 1).copied().unwrap_or(f64::NEG_INFINITY)
}

/// The rule "`variant` has the highest value of all" (highest BCE: worst; highest
/// accuracy: best): it holds in a seed when no other variant's value exceeds it, and is
/// compared, seed by seed, with the other variant highest on average.
fn is_highest(variant: &'static str, metric: &'static str) -> (HoldsBox, ComparisonsBox) {
    let holds =
        move |v: &SeedValues, _: Option<f64>| value(v, variant) >= max_except(v, &[variant]);
    let comparisons = move |seeds: &[SeedRow]| {
        let rival = others(seeds, &[variant]);
        vec![rival.first().and_then(|r| {
            paired(
                seeds,
                format!("{metric}({variant}) - {metric}({r})"),
                |v, _| value(v, variant),
                |v, _| value(v, r),
            )
        })]
    };
    (Box::new(holds), Box::new(comparisons))
}

/// Metrics the findings read; each is a closure on one variant's results in one seed.
pub struct FindingMetrics<'a> {
    /// Reconstruction BCE (the reference's sampled latent).
    pub bce: MetricSpec<'a>,
    /// Probe accuracy under the reference protocol, then under ours.
    pub probe: Vec<MetricSpec<'a>>,
    /// Anomaly AUC of the primary held-out digit under the published score, then under the
    /// corrected score.
    pub anomaly: Vec<MetricSpec<'a>>,
}

/// Checks every finding of the reference against `results` with `metrics`.
pub fn check_with(results: &StudyResults, metrics: &FindingMetrics<'_>) -> Vec<Finding> {
    let mut out = Vec::new();

    let (holds, comparisons) = is_highest("shallow", "BCE");
    let rule = Rule {
        needed: &["shallow"],
        higher_is_better: false,
        decimals: 2,
        holds: &holds,
        comparisons: &comparisons,
    };
    out.push(finding(
        "shallow reconstructs worst",
        "shallow has the highest test BCE of all variants",
        vec![check_protocol(results, &metrics.bce, &rule)],
    ));

    let best = ["vanilla", "sparse", "vq"];
    let rule = Rule {
        needed: &best,
        higher_is_better: false,
        decimals: 2,
        holds: &|v, _| {
            best.iter()
                .map(|b| value(v, b))
                .fold(f64::NEG_INFINITY, f64::max)
                < min_except(v, &best)
        },
        comparisons: &|seeds| {
            // The weakest of the three (highest mean BCE) against the best of the rest.
            let weakest = by_mean(seeds)
                .into_iter()
                .map(|(v, _)| v)
                .find(|v| best.contains(&v.as_str()));
            let rival = others(seeds, &best).pop();
            vec![weakest.zip(rival).and_then(|(w, r)| {
                paired(
                    seeds,
                    format!("BCE({r}) - BCE({w})"),
                    |v, _| value(v, &r),
                    |v, _| value(v, &w),
                )
            })]
        },
    };
    out.push(finding(
        "vanilla, sparse and vq reconstruct best",
        "vanilla, sparse and vq have the three lowest test BCEs",
        vec![check_protocol(results, &metrics.bce, &rule)],
    ));

    let (holds, comparisons) = is_highest("denoising", "acc");
    let rule = Rule {
        needed: &["denoising"],
        higher_is_better: true,
        decimals: 4,
        holds: &holds,
        comparisons: &comparisons,
    };
    out.push(finding(
        "denoising gives the best probe",
        "denoising has the highest linear-probe accuracy of all variants",
        metrics
            .probe
            .iter()
            .map(|spec| check_protocol(results, spec, &rule))
            .collect(),
    ));

    let rule = Rule {
        needed: &["sparse"],
        higher_is_better: true,
        decimals: 4,
        holds: &|v, base| {
            let sparse = value(v, "sparse");
            sparse <= min_except(v, &["sparse"]) && base.is_some_and(|b| sparse < b)
        },
        comparisons: &|seeds| {
            let rival = others(seeds, &["sparse"]).pop();
            vec![
                rival.and_then(|r| {
                    paired(
                        seeds,
                        format!("acc({r}) - acc(sparse)"),
                        |v, _| value(v, &r),
                        |v, _| value(v, "sparse"),
                    )
                }),
                paired(
                    seeds,
                    "acc(random_encoder) - acc(sparse)".into(),
                    |_, base| base.unwrap_or(f64::NAN),
                    |v, _| value(v, "sparse"),
                ),
            ]
        },
    };
    out.push(finding(
        "sparse gives the worst probe, below the baseline",
        "sparse has the lowest probe accuracy and is below the random_encoder baseline",
        metrics
            .probe
            .iter()
            .map(|spec| check_protocol(results, spec, &rule))
            .collect(),
    ));

    out.push(Finding {
        claim:
            "beta_vae_strict gives the most digit-like samples, vq samples look least like digits"
                .into(),
        criterion: "visual".into(),
        verdict: Verdict::SeeImages,
        checks: Vec::new(),
        evidence: "samples/beta_vae_strict.png, samples/vq.png and the other samples/*.png".into(),
    });

    out.push(Finding {
        claim: "only the VAE family interpolates meaningfully".into(),
        criterion: "visual".into(),
        verdict: Verdict::SeeImages,
        checks: Vec::new(),
        evidence: "interpolation/*.png (strips) and interpolation/*.gif".into(),
    });

    let strong = ["shallow", "stacked"];
    let rule = Rule {
        needed: &strong,
        higher_is_better: true,
        decimals: 4,
        // Both in the top three: each beats every other variant but at most one.
        holds: &|v, _| {
            value(v, "shallow").min(value(v, "stacked")) > kth_highest_except(v, &strong, 2)
        },
        comparisons: &|seeds| {
            let means = by_mean(seeds);
            let weaker = means
                .iter()
                .rev()
                .find(|(v, _)| strong.contains(&v.as_str()))
                .map(|(v, _)| v.clone());
            let rival = others(seeds, &strong).get(1).cloned();
            vec![weaker.zip(rival).and_then(|(w, r)| {
                paired(
                    seeds,
                    format!("AUC({w}) - AUC({r}, 2nd best of the rest)"),
                    |v, _| value(v, &w),
                    |v, _| value(v, &r),
                )
            })]
        },
    };
    let mut strong_detectors = finding(
        "shallow and stacked are strong anomaly detectors",
        "shallow and stacked both rank among the three highest anomaly AUCs",
        metrics
            .anomaly
            .iter()
            .map(|spec| check_protocol(results, spec, &rule))
            .collect(),
    );
    if let Some(by_class) = by_held_out_class(results, rule.holds) {
        strong_detectors.evidence.push_str(&by_class);
    }
    out.push(strong_detectors);
    out
}

/// One anomaly score's AUC in a result.
type AucOf = fn(&ae_eval::tasks::AnomalyResult) -> f64;

/// How often an anomaly finding's per-seed rule holds when each other class is the anomaly:
/// "; across the 10 held-out classes of seed 42: published score 3 of 10 (digits ...), BCE
/// score ..." (`None` unless the study holds out more than one class).
fn by_held_out_class(
    results: &StudyResults,
    holds: &dyn Fn(&SeedValues, Option<f64>) -> bool,
) -> Option<String> {
    let anomaly = &results.experiment.anomaly;
    if anomaly.digits.len() < 2 {
        return None;
    }
    let scores: [(&str, AucOf); 2] = [
        ("published score", |a| a.published_auc),
        ("BCE score", |a| a.auc),
    ];
    let mut parts = Vec::new();
    for seed in results
        .seeds
        .iter()
        .filter(|s| anomaly.holds_out_every_digit(s.seed))
    {
        for (score, auc) in scores {
            let mut held = Vec::new();
            let mut checked = 0;
            for &digit in &anomaly.digits {
                let values: SeedValues = seed
                    .variants
                    .iter()
                    .filter_map(|v| v.anomaly_for(digit).map(|a| (v.variant.clone(), auc(a))))
                    .collect();
                let complete = values.len() == results.variants.len();
                if complete {
                    checked += 1;
                    if holds(&values, None) {
                        held.push(digit.to_string());
                    }
                }
            }
            parts.push(format!(
                "seed {}, {score}: holds for {} of {checked} held-out classes ({})",
                seed.seed,
                held.len(),
                if held.is_empty() {
                    "none".to_string()
                } else {
                    held.join(", ")
                }
            ));
        }
    }
    (!parts.is_empty()).then(|| format!("; every held-out class: {}", parts.join("; ")))
}

/// Checks every finding with the study's metrics: BCE; the reference probe, then the
/// converged one; the published anomaly score, then the per-image BCE.
pub fn check(results: &StudyResults) -> Vec<Finding> {
    let digit = results.experiment.anomaly.primary_digit();
    let bce = |v: &VariantResults| v.reconstruction.as_ref().map(|r| r.mean_bce);
    let reference_probe = |v: &VariantResults| v.probe.as_ref().map(|p| p.sampled.test_accuracy);
    let reference_baseline =
        |s: &SeedResults| s.random_encoder.as_ref().map(|r| r.reference.test_accuracy);
    let converged_probe = |v: &VariantResults| v.probe.as_ref().map(|p| p.converged.test_accuracy);
    let converged_baseline =
        |s: &SeedResults| s.random_encoder.as_ref().map(|r| r.converged.test_accuracy);
    let published_auc = move |v: &VariantResults| v.anomaly_for(digit).map(|a| a.published_auc);
    let bce_auc = move |v: &VariantResults| v.anomaly_for(digit).map(|a| a.auc);
    let metrics = FindingMetrics {
        bce: MetricSpec {
            protocol: "test BCE",
            value: &bce,
            baseline: None,
        },
        probe: vec![
            MetricSpec {
                protocol: "reference probe (Adam, early stopping)",
                value: &reference_probe,
                baseline: Some(&reference_baseline),
            },
            MetricSpec {
                protocol: "converged probe",
                value: &converged_probe,
                baseline: Some(&converged_baseline),
            },
        ],
        anomaly: vec![
            MetricSpec {
                protocol: "published (pre-fix) score",
                value: &published_auc,
                baseline: None,
            },
            MetricSpec {
                protocol: "per-image BCE score",
                value: &bce_auc,
                baseline: None,
            },
        ],
    };
    check_with(results, &metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A study whose only results are the reconstruction BCEs `bce[variant][seed]`.
    fn study(bce: &[(&str, [f64; 3])]) -> StudyResults {
        let bce: Vec<(&str, &[f64])> = bce.iter().map(|(n, x)| (*n, &x[..])).collect();
        crate::results::tests::with_bce(&bce)
    }

    #[test]
    fn a_finding_that_holds_in_every_seed_with_a_clear_margin_holds() {
        let results = study(&[
            ("shallow", [120.0, 122.0, 124.0]),
            ("stacked", [100.0, 101.0, 105.0]),
            ("vanilla", [64.0, 66.0, 110.0]),
            ("sparse", [65.0, 64.0, 66.0]),
            ("vq", [66.0, 65.0, 64.0]),
        ]);
        let findings = check(&results);
        let worst = &findings[0];
        assert_eq!(worst.verdict, Verdict::Holds);
        let c = &worst.checks[0];
        assert_eq!((c.holds_in, c.seeds), (3, 3));
        // Rival: stacked (highest mean BCE after shallow). Differences 20, 21, 19: mean 20,
        // sd 1, half-width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.484138.
        let p = &c.comparisons[0];
        assert_eq!(p.description, "BCE(shallow) - BCE(stacked)");
        assert!((p.difference.mean - 20.0).abs() < 1e-12);
        assert!((p.difference.ci_low.unwrap() - 17.515862).abs() < 1e-5);
        assert!((p.difference.ci_high.unwrap() - 22.484138).abs() < 1e-5);
        // vanilla, sparse and vq are the best three in seeds 1 and 2 only (vanilla 110 >
        // stacked 105 in seed 3).
        let best = &findings[1];
        assert_eq!((best.checks[0].holds_in, best.checks[0].seeds), (2, 3));
        assert_eq!(best.verdict, Verdict::Inconclusive);
        // The probe and anomaly findings have no results here.
        assert_eq!(findings[2].verdict, Verdict::NotCheckable);
    }

    #[test]
    fn a_seed_with_a_result_missing_does_not_count() {
        let mut results = study(&[
            ("shallow", [120.0, 122.0, 124.0]),
            ("stacked", [100.0, 101.0, 105.0]),
            ("vanilla", [64.0, 66.0, 65.0]),
            ("sparse", [65.0, 64.0, 66.0]),
            ("vq", [66.0, 65.0, 64.0]),
        ]);
        // A study under way: vq's seed-2 result is not there yet.
        results.seeds[1].variants[4].reconstruction = None;
        let worst = &check(&results)[0];
        let c = &worst.checks[0];
        assert_eq!((c.holds_in, c.seeds), (2, 2));
        assert!(!c.evidence.contains("seed 2:"), "{}", c.evidence);
    }

    #[test]
    fn strong_detectors_are_also_checked_on_every_held_out_class() {
        use ae_eval::roc::RocCurve;
        use ae_eval::tasks::AnomalyResult;
        let mut results = study(&[
            ("shallow", [1.0; 3]),
            ("stacked", [1.0; 3]),
            ("vanilla", [1.0; 3]),
            ("sparse", [1.0; 3]),
            ("vq", [1.0; 3]),
        ]);
        results.experiment.anomaly.digits = vec![0, 1, 2];
        let roc = RocCurve {
            fpr: vec![0.0, 1.0],
            tpr: vec![0.0, 1.0],
            thresholds: vec![f64::INFINITY, 0.0],
        };
        // Published-score AUCs per digit (shallow, stacked, vanilla, sparse, vq): digits 0
        // and 1 put shallow and stacked in the top three, digit 2 puts both last. The BCE
        // score ranks them last everywhere.
        let published = [
            [0.9, 0.8, 0.7, 0.6, 0.5],
            [0.9, 0.6, 0.8, 0.5, 0.4],
            [0.1, 0.2, 0.7, 0.6, 0.5],
        ];
        for seed in &mut results.seeds {
            for (i, v) in seed.variants.iter_mut().enumerate() {
                v.held_out = (0..3u8)
                    .map(|d| {
                        let a = AnomalyResult {
                            digit: d,
                            auc: 0.1 * i as f64,
                            roc: roc.clone(),
                            published_auc: published[d as usize][i],
                            published_roc: roc.clone(),
                        };
                        (d, Some(a))
                    })
                    .collect();
            }
        }
        let strong = check(&results).pop().unwrap();
        assert!(
            strong.evidence.contains(
                "seed 1, published score: holds for 2 of 3 held-out classes (0, 1); \
                 seed 1, BCE score: holds for 0 of 3 held-out classes (none)"
            ),
            "{}",
            strong.evidence
        );
    }

    #[test]
    fn a_finding_that_fails_everywhere_does_not_hold() {
        let results = study(&[
            ("shallow", [90.0, 91.0, 92.0]),
            ("stacked", [100.0, 101.0, 105.0]),
            ("vanilla", [64.0, 66.0, 60.0]),
        ]);
        let worst = &check(&results)[0];
        assert_eq!(worst.checks[0].holds_in, 0);
        assert_eq!(worst.verdict, Verdict::DoesNotHold);
        assert!(
            worst.evidence.contains("holds in 0 of 3 seeds"),
            "{}",
            worst.evidence
        );
    }

    fn protocol(verdict: Verdict) -> ProtocolCheck {
        ProtocolCheck {
            protocol: "p".into(),
            holds_in: 0,
            seeds: 0,
            comparisons: Vec::new(),
            verdict,
            evidence: String::new(),
        }
    }

    #[test]
    fn holding_under_the_reference_protocol_only_is_protocol_dependent() {
        use Verdict::*;
        let overall_of = |a, b| overall(&[protocol(a), protocol(b)]);
        assert_eq!(overall_of(Holds, DoesNotHold), ProtocolDependent);
        assert_eq!(overall_of(Holds, Inconclusive), ProtocolDependent);
        assert_eq!(overall_of(DoesNotHold, Holds), Holds);
        assert_eq!(overall_of(DoesNotHold, DoesNotHold), DoesNotHold);
        assert_eq!(overall_of(Inconclusive, DoesNotHold), Inconclusive);
        assert_eq!(overall(&[protocol(Holds)]), Holds);
    }

    #[test]
    fn one_seed_decides_by_that_seed_alone() {
        // No interval with one seed: holds when the seed holds, whatever the comparison.
        assert_eq!(protocol_verdict(1, 1, &[]), Verdict::Holds);
        assert_eq!(protocol_verdict(0, 1, &[]), Verdict::DoesNotHold);
        assert_eq!(protocol_verdict(4, 5, &[]), Verdict::Inconclusive);
    }
}
