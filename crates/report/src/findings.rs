//! The reference's seven findings (`docs/reference-study.md`, "The findings the reference
//! states"), each checked in every seed under one or more protocols (or measures) and given a
//! verdict by one stated rule ([`RULE`]).
//!
//! A finding is a set of per-seed *margins*, each oriented so that a positive margin supports
//! it: "BCE(shallow) - highest BCE of the rest", "acc(random_encoder) - acc(sparse)". The
//! rival of a margin is found anew in every seed (the best other variant of that seed), so the
//! seed check ("every margin is positive") and the paired interval over the seeds (the same
//! margins' mean and 95% t interval) measure the same thing.

use std::collections::BTreeMap;

use serde::Serialize;

use ae_eval::stats::{summarize, Summary};

use ae_results::metrics::Metric;
use ae_results::study_results::{SeedResults, StudyResults, VariantResults};

/// The outcome of one finding under one protocol, or overall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It holds in every seed and every margin's 95% interval lies above zero.
    Holds,
    /// It fails in every seed, or a margin's 95% interval lies below zero.
    DoesNotHold,
    /// Mixed across seeds, or an interval covers zero.
    Inconclusive,
    /// The protocols (or measures) that could check it disagree.
    ProtocolDependent,
    /// One seed only, in which it holds: no interval, so no verdict.
    IndicationFor,
    /// One seed only, in which it fails.
    IndicationAgainst,
    /// A result it needs is missing (variant not in the study, job not done).
    NotCheckable,
}

impl Verdict {
    /// Short label for the report.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::DoesNotHold => "does not hold",
            Verdict::Inconclusive => "inconclusive",
            Verdict::ProtocolDependent => "protocol-dependent",
            Verdict::IndicationFor => "indication for (1 seed)",
            Verdict::IndicationAgainst => "indication against (1 seed)",
            Verdict::NotCheckable => "not checkable",
        }
    }
}

/// The rule that turns the evidence into verdicts, as the report states it; the tests check
/// the code against every case it names.
pub const RULE: &str = "Each finding is a set of per-seed margins, oriented so that a positive \
    margin supports it; each margin compares with the rival that is best in that seed (not the \
    best on average). Under one protocol a finding **holds** when every margin is positive in \
    every seed and every margin's 95% interval over the seeds (Student t, paired by seed) lies \
    above zero; it **does not hold** when it fails in every seed or some margin's interval lies \
    below zero; otherwise it is **inconclusive**. With a single seed there is no interval: the \
    seed gives an **indication for** or **against** (1 seed), never a verdict. Overall, the \
    protocols (or measures) that could be checked are treated alike: when they agree, that is \
    the verdict; when they disagree it is **protocol-dependent**, and the words say which \
    protocol gives which outcome. A protocol without the results it needs is **not checkable** \
    and left out; a finding no protocol can check is not checkable.";

/// A paired comparison across seeds: one margin per seed, summarised.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairedComparison {
    /// What is compared, with the rival of each seed, e.g. "BCE(shallow) - highest BCE of
    /// the rest (stacked in 5 seeds)".
    pub description: String,
    /// The per-seed margins summarised (n, mean, sd, 95% interval).
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
    /// The protocol or measure, e.g. "reference probe (Adam, early stopping)".
    pub protocol: String,
    /// Seeds in which the finding holds.
    pub holds_in: usize,
    /// Seeds with every result the check needs.
    pub seeds: usize,
    /// Seeds of the study (more than `seeds` while some results are missing).
    pub study_seeds: usize,
    /// The paired comparisons that decide it.
    pub comparisons: Vec<PairedComparison>,
    /// The verdict under this protocol alone.
    pub verdict: Verdict,
    /// Where the finding holds beyond the study's primary setting, e.g. "held-out digits
    /// (seed 42): holds for digit 1 only (1 of 10)".
    pub scope: Option<String>,
    /// The numbers per seed, for the reader.
    pub evidence: String,
}

impl ProtocolCheck {
    /// "inconclusive under the published (pre-fix) score (held-out digits ...: ...)".
    fn clause(&self) -> String {
        let scope = self
            .scope
            .as_ref()
            .map_or(String::new(), |s| format!("; {s}"));
        format!("{} under {}{scope}", self.verdict.label(), self.protocol)
    }
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
    /// The verdict in words, with the protocols behind it where they matter: "holds",
    /// "protocol-dependent: holds only under the converged probe; inconclusive under ...".
    pub verdict_words: String,
    /// One check per protocol or measure: the reference's first.
    pub checks: Vec<ProtocolCheck>,
    /// A one-line summary of every check.
    pub evidence: String,
}

/// One metric of every variant of one seed.
type SeedValues = Vec<(String, f64)>;

/// One complete seed: its number, its variants' values and the baseline's value.
type SeedRow = (u64, SeedValues, Option<f64>);

/// The baseline's value in one seed.
type BaselineFn<'a> = &'a dyn Fn(&SeedResults) -> Option<f64>;

/// A metric as a finding reads it.
pub struct MetricSpec<'a> {
    /// The protocol's or measure's name.
    pub protocol: &'a str,
    /// The variant's value in a seed.
    pub value: &'a dyn Fn(&VariantResults) -> Option<f64>,
    /// The random_encoder baseline's value in a seed, where the finding needs it.
    pub baseline: Option<BaselineFn<'a>>,
    /// The variants that have the metric (`None`: every variant of the study), e.g. only
    /// those that can sample.
    pub variants: Option<&'a [String]>,
}

/// The seeds in which every variant that has the metric has a value (and the baseline, if
/// asked): a finding ranks all of them, so a seed still under way does not count.
fn complete_seeds(
    results: &StudyResults,
    spec: &MetricSpec<'_>,
    needed: &[&str],
) -> Result<Vec<SeedRow>, String> {
    let expected: Vec<&String> = match spec.variants {
        Some(vs) => vs.iter().collect(),
        None => results.variants.iter().collect(),
    };
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !expected.iter().any(|v| v == n))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} not in the study{}",
            missing.join(", "),
            if spec.variants.is_some() {
                " or without this metric"
            } else {
                ""
            }
        ));
    }
    let mut out = Vec::new();
    for seed in &results.seeds {
        let values: SeedValues = seed
            .variants
            .iter()
            .filter(|v| expected.contains(&&v.variant))
            .filter_map(|v| (spec.value)(v).map(|x| (v.variant.clone(), x)))
            .collect();
        let baseline = spec.baseline.map(|b| b(seed));
        if values.len() == expected.len() && values.len() >= 2 && !matches!(baseline, Some(None)) {
            out.push((seed.seed, values, baseline.flatten()));
        }
    }
    if out.is_empty() {
        return Err("no seed has every result it needs".into());
    }
    Ok(out)
}

/// The highest (`highest = true`) or lowest value among the variants `pick` selects, with
/// its variant; `None` when it selects none.
fn extreme(values: &SeedValues, pick: impl Fn(&str) -> bool, highest: bool) -> Option<(f64, &str)> {
    values
        .iter()
        .filter(|(v, _)| pick(v))
        .map(|(v, x)| (*x, v.as_str()))
        .reduce(|a, b| {
            let better = if highest { b.0 > a.0 } else { b.0 < a.0 };
            if better {
                b
            } else {
                a
            }
        })
}

/// A margin in one seed and its rival in that seed (`None`: the baseline, or no rival).
type MarginFn<'a> = Box<dyn Fn(&SeedValues, Option<f64>) -> Option<(f64, Option<String>)> + 'a>;

/// One per-seed margin of a finding.
struct Margin<'a> {
    /// What the margin measures.
    description: String,
    /// Its value and rival in one seed.
    of: MarginFn<'a>,
}

/// "m(a)" for one variant, "m of a, b and c" for several.
fn name_group(metric: &str, group: &[&str], which: &str) -> String {
    match group {
        [one] => format!("{metric}({one})"),
        _ => format!("{which} {metric} of {}", group.join(", ")),
    }
}

/// Every variant of `group` above every other variant: lowest of the group minus highest of
/// the rest.
fn above_rest<'a>(group: &'a [&'a str], metric: &str) -> Margin<'a> {
    Margin {
        description: format!(
            "{} - highest {metric} of the rest",
            name_group(metric, group, "lowest")
        ),
        of: Box::new(move |v, _| {
            let (low, _) = extreme(v, |n| group.contains(&n), false)?;
            let (rival, who) = extreme(v, |n| !group.contains(&n), true)?;
            Some((low - rival, Some(who.to_string())))
        }),
    }
}

/// Every variant of `group` below every other variant: lowest of the rest minus highest of
/// the group.
fn below_rest<'a>(group: &'a [&'a str], metric: &str) -> Margin<'a> {
    Margin {
        description: format!(
            "lowest {metric} of the rest - {}",
            name_group(metric, group, "highest")
        ),
        of: Box::new(move |v, _| {
            let (high, _) = extreme(v, |n| group.contains(&n), true)?;
            let (rival, who) = extreme(v, |n| !group.contains(&n), false)?;
            Some((rival - high, Some(who.to_string())))
        }),
    }
}

/// `variant` below the seed's baseline: baseline minus the variant.
fn below_baseline<'a>(variant: &'a str, metric: &str) -> Margin<'a> {
    Margin {
        description: format!("{metric}(random_encoder) - {metric}({variant})"),
        of: Box::new(move |v, base| {
            let x = v.iter().find(|(n, _)| n == variant)?.1;
            Some((base? - x, None))
        }),
    }
}

/// A finding's per-seed rule: the variants it names and its margins.
struct Rule<'a> {
    needed: &'a [&'a str],
    higher_is_better: bool,
    decimals: usize,
    margins: Vec<Margin<'a>>,
}

impl Rule<'_> {
    /// Whether every margin is positive in a seed with these values.
    fn holds(&self, values: &SeedValues, base: Option<f64>) -> bool {
        self.margins
            .iter()
            .all(|m| (m.of)(values, base).is_some_and(|(x, _)| x > 0.0))
    }
}

/// The verdict of one protocol from k of n seeds and the paired comparisons.
fn protocol_verdict(holds_in: usize, seeds: usize, comparisons: &[PairedComparison]) -> Verdict {
    let sides: Vec<Option<bool>> = comparisons.iter().map(PairedComparison::side).collect();
    if seeds == 0 {
        Verdict::NotCheckable
    } else if seeds == 1 {
        if holds_in == 1 {
            Verdict::IndicationFor
        } else {
            Verdict::IndicationAgainst
        }
    } else if sides.contains(&Some(false)) || holds_in == 0 {
        Verdict::DoesNotHold
    } else if holds_in == seeds && sides.iter().all(|s| *s == Some(true)) {
        Verdict::Holds
    } else {
        Verdict::Inconclusive
    }
}

/// Whether a verdict says the finding holds (a verdict or an indication).
fn supports(v: Verdict) -> bool {
    matches!(v, Verdict::Holds | Verdict::IndicationFor)
}

/// The overall verdict and its words, by [`RULE`], from the checks of every protocol.
fn overall(checks: &[ProtocolCheck]) -> (Verdict, String) {
    let checkable: Vec<&ProtocolCheck> = checks
        .iter()
        .filter(|c| c.verdict != Verdict::NotCheckable)
        .collect();
    let unchecked: Vec<&str> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::NotCheckable)
        .map(|c| c.protocol.as_str())
        .collect();
    let not_checked = if unchecked.is_empty() || checkable.is_empty() {
        String::new()
    } else {
        format!("; not checkable under {}", unchecked.join(", "))
    };
    let scopes = |cs: &[&ProtocolCheck]| -> String {
        cs.iter()
            .filter_map(|c| c.scope.as_ref().map(|s| format!("; {}: {s}", c.protocol)))
            .collect()
    };
    let partial: String = checkable
        .iter()
        .filter(|c| c.seeds < c.study_seeds)
        .map(|c| {
            format!(
                "; {}: only {} of the study's {} seeds have every result yet",
                c.protocol, c.seeds, c.study_seeds
            )
        })
        .collect();
    match checkable.as_slice() {
        [] => (Verdict::NotCheckable, Verdict::NotCheckable.label().into()),
        [first, rest @ ..] if rest.iter().all(|c| c.verdict == first.verdict) => {
            let under = if checks.len() > 1 && checkable.len() == 1 {
                format!(" under {}", first.protocol)
            } else {
                String::new()
            };
            let words = format!(
                "{}{under}{}{not_checked}{partial}",
                first.verdict.label(),
                scopes(&checkable)
            );
            (first.verdict, words)
        }
        _ => {
            let (for_, against): (Vec<&ProtocolCheck>, Vec<&ProtocolCheck>) =
                checkable.iter().partition(|c| supports(c.verdict));
            let words = match (for_.as_slice(), against.as_slice()) {
                ([only], others) => {
                    let scope = only
                        .scope
                        .as_ref()
                        .map_or(String::new(), |s| format!("; {s}"));
                    let others: Vec<String> = others.iter().map(|c| c.clause()).collect();
                    format!(
                        "{} only under {}{scope}; {}",
                        only.verdict.label(),
                        only.protocol,
                        others.join("; ")
                    )
                }
                _ => checkable
                    .iter()
                    .map(|c| c.clause())
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            (
                Verdict::ProtocolDependent,
                format!(
                    "{}: {words}{not_checked}{partial}",
                    Verdict::ProtocolDependent.label()
                ),
            )
        }
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

/// "stacked in 5 seeds" or "stacked in 3, vanilla in 2 seeds".
fn rivals_text(rivals: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rivals {
        *counts.entry(r.as_str()).or_default() += 1;
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = counts.iter().map(|(r, k)| format!("{r} in {k}")).collect();
    format!(
        "{} seed{}",
        parts.join(", "),
        if rivals.len() == 1 { "" } else { "s" }
    )
}

/// The margins of `rule` over the complete seeds, summarised, with each seed's rival named.
fn comparisons(seeds: &[SeedRow], rule: &Rule<'_>) -> Vec<PairedComparison> {
    rule.margins
        .iter()
        .filter_map(|m| {
            let per_seed: Option<Vec<(f64, Option<String>)>> =
                seeds.iter().map(|(_, v, base)| (m.of)(v, *base)).collect();
            let per_seed = per_seed?;
            let xs: Vec<f64> = per_seed.iter().map(|p| p.0).collect();
            let rivals: Vec<String> = per_seed.into_iter().filter_map(|p| p.1).collect();
            let description = if rivals.is_empty() {
                m.description.clone()
            } else {
                format!("{} (rival: {})", m.description, rivals_text(&rivals))
            };
            summarize(&xs).map(|difference| PairedComparison {
                description,
                difference,
            })
        })
        .collect()
}

fn check_protocol(results: &StudyResults, spec: &MetricSpec<'_>, rule: &Rule<'_>) -> ProtocolCheck {
    let seeds = match complete_seeds(results, spec, rule.needed) {
        Ok(s) => s,
        Err(why) => {
            return ProtocolCheck {
                protocol: spec.protocol.into(),
                holds_in: 0,
                seeds: 0,
                study_seeds: results.seeds.len(),
                comparisons: Vec::new(),
                verdict: Verdict::NotCheckable,
                scope: None,
                evidence: why,
            }
        }
    };
    let holds_in = seeds
        .iter()
        .filter(|(_, v, base)| rule.holds(v, *base))
        .count();
    let comparisons = comparisons(&seeds, rule);
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
        study_seeds: results.seeds.len(),
        verdict: protocol_verdict(holds_in, seeds.len(), &comparisons),
        comparisons,
        scope: None,
        evidence,
    }
}

fn finding(claim: &str, criterion: &str, checks: Vec<ProtocolCheck>) -> Finding {
    let (verdict, verdict_words) = overall(&checks);
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
        verdict_words,
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

/// Metrics the findings read; each is a closure on one variant's results in one seed.
pub struct FindingMetrics<'a> {
    /// Reconstruction BCE (the reference's sampled latent).
    pub bce: MetricSpec<'a>,
    /// Probe accuracy under the reference protocol, then under ours.
    pub probe: Vec<MetricSpec<'a>>,
    /// The samples' recognisability: the reference classifier's mean confidence, then the
    /// Fréchet classifier distance (lower is better).
    pub samples: [MetricSpec<'a>; 2],
    /// The interpolations: mean confidence on the inner frames, then the largest step's
    /// share of the path (lower is smoother).
    pub interpolation: [MetricSpec<'a>; 2],
    /// Anomaly AUC of the primary held-out digit under the published score, then under the
    /// corrected score.
    pub anomaly: Vec<MetricSpec<'a>>,
}

/// The variants of the VAE family, as the reference names them.
const VAE_FAMILY: [&str; 3] = ["vae", "beta_vae_strict", "beta_vae_loose"];

/// Checks every finding of the reference against `results` with `metrics`.
pub fn check_with(results: &StudyResults, metrics: &FindingMetrics<'_>) -> Vec<Finding> {
    let mut out = Vec::new();

    let rule = Rule {
        needed: &["shallow"],
        higher_is_better: false,
        decimals: 2,
        margins: vec![above_rest(&["shallow"], "BCE")],
    };
    out.push(finding(
        "shallow reconstructs worst",
        "shallow has the highest test BCE of all variants",
        vec![check_protocol(results, &metrics.bce, &rule)],
    ));

    const BEST: [&str; 3] = ["vanilla", "sparse", "vq"];
    let rule = Rule {
        needed: &BEST,
        higher_is_better: false,
        decimals: 2,
        margins: vec![below_rest(&BEST, "BCE")],
    };
    out.push(finding(
        "vanilla, sparse and vq reconstruct best",
        "vanilla, sparse and vq have the three lowest test BCEs",
        vec![check_protocol(results, &metrics.bce, &rule)],
    ));

    let rule = Rule {
        needed: &["denoising"],
        higher_is_better: true,
        decimals: 4,
        margins: vec![above_rest(&["denoising"], "acc")],
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
        margins: vec![
            below_rest(&["sparse"], "acc"),
            below_baseline("sparse", "acc"),
        ],
    };
    let mut checks: Vec<ProtocolCheck> = metrics
        .probe
        .iter()
        .map(|spec| check_protocol(results, spec, &rule))
        .collect();
    if let Some(reference) = checks.first_mut() {
        reference.scope = early_stopping_of(results, "sparse");
    }
    out.push(finding(
        "sparse gives the worst probe, below the baseline",
        "sparse has the lowest probe accuracy and is below the random_encoder baseline",
        checks,
    ));

    let confident = Rule {
        needed: &["beta_vae_strict", "vq"],
        higher_is_better: true,
        decimals: 4,
        margins: vec![
            above_rest(&["beta_vae_strict"], "confidence"),
            below_rest(&["vq"], "confidence"),
        ],
    };
    let close = Rule {
        needed: &["beta_vae_strict", "vq"],
        higher_is_better: false,
        decimals: 2,
        margins: vec![
            below_rest(&["beta_vae_strict"], "FCD"),
            above_rest(&["vq"], "FCD"),
        ],
    };
    out.push(finding(
        "beta_vae_strict gives the most digit-like samples, vq samples look least like digits",
        "among the variants that sample: beta_vae_strict's samples get the reference \
         classifier's highest mean confidence and vq's the lowest; beta_vae_strict's samples \
         have the lowest Fréchet classifier distance to the test images and vq's the highest",
        vec![
            check_protocol(results, &metrics.samples[0], &confident),
            check_protocol(results, &metrics.samples[1], &close),
        ],
    ));

    let meaningful = Rule {
        needed: &VAE_FAMILY,
        higher_is_better: true,
        decimals: 4,
        margins: vec![above_rest(&VAE_FAMILY, "confidence")],
    };
    let smooth = Rule {
        needed: &VAE_FAMILY,
        higher_is_better: false,
        decimals: 4,
        margins: vec![below_rest(&VAE_FAMILY, "largest step")],
    };
    out.push(finding(
        "only the VAE family interpolates meaningfully",
        "vae, beta_vae_strict and beta_vae_loose all get a higher mean classifier confidence on \
         the inner interpolation frames than every other variant; their largest step between \
         frames is the smallest share of the path",
        vec![
            check_protocol(results, &metrics.interpolation[0], &meaningful),
            check_protocol(results, &metrics.interpolation[1], &smooth),
        ],
    ));

    const STRONG: [&str; 2] = ["shallow", "stacked"];
    let rule = Rule {
        needed: &STRONG,
        higher_is_better: true,
        decimals: 4,
        margins: vec![above_rest(&STRONG, "AUC")],
    };
    let scores: [AucOf; 2] = [Metric::PublishedAuc, Metric::Auc];
    let checks = metrics
        .anomaly
        .iter()
        .zip(scores)
        .map(|(spec, auc)| {
            let mut check = check_protocol(results, spec, &rule);
            check.scope = by_held_out_class(results, &rule, auc);
            check
        })
        .collect();
    out.push(finding(
        "shallow and stacked are strong anomaly detectors",
        "shallow and stacked have the two highest anomaly AUCs (as in the reference's table)",
        checks,
    ));
    out
}

/// How far `variant`'s early-stopped probe got: "sparse's early-stopped probe peaked at a
/// validation accuracy of 0.05-0.21 (chance: 0.10) in epochs 1-8" over the seeds that ran it.
fn early_stopping_of(results: &StudyResults, variant: &str) -> Option<String> {
    let runs: Vec<(f64, usize)> = results
        .seeds
        .iter()
        .filter_map(|s| {
            let p = &s.variant(variant)?.probe.as_ref()?.sampled;
            let best = p.validation_accuracies.iter().copied().reduce(f64::max)?;
            Some((best, p.best_epoch))
        })
        .collect();
    let span = |xs: Vec<f64>, d: usize| {
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                (l.min(x), h.max(x))
            });
        if lo == hi {
            format!("{lo:.d$}")
        } else {
            format!("{lo:.d$}-{hi:.d$}")
        }
    };
    (!runs.is_empty()).then(|| {
        format!(
            "{variant}'s early-stopped probe peaked at a validation accuracy of {} (chance: \
             0.10) in epoch{} {}",
            span(runs.iter().map(|r| r.0).collect(), 2),
            if runs.len() == 1 { "" } else { "s" },
            span(runs.iter().map(|r| r.1 as f64).collect(), 0)
        )
    })
}

/// One anomaly score's AUC in a result.
type AucOf = fn(u8) -> Metric;

/// For which held-out classes an anomaly finding's per-seed rule holds when each class in
/// turn is the anomaly: "held-out digits, seed 42: holds for 1 of 10 (digit 1 only)"
/// (`None` unless the study holds out more than one class, or a named variant is missing).
fn by_held_out_class(results: &StudyResults, rule: &Rule<'_>, auc: AucOf) -> Option<String> {
    let anomaly = &results.study.anomaly;
    let present = |n: &&str| results.variants.iter().any(|v| v == n);
    if anomaly.digits.len() < 2 || !rule.needed.iter().all(present) {
        return None;
    }
    let (noun, nouns) = match results.study.dataset_name() {
        Ok(ae_data::DatasetName::Mnist) => ("digit", "digits"),
        _ => ("class", "classes"),
    };
    let mut parts = Vec::new();
    for seed in results
        .seeds
        .iter()
        .filter(|s| anomaly.holds_out_every_digit(s.seed))
    {
        let mut held = Vec::new();
        let mut checked = 0;
        for &digit in &anomaly.digits {
            let values: SeedValues = seed
                .variants
                .iter()
                .filter_map(|v| auc(digit).of(v).map(|x| (v.variant.clone(), x)))
                .collect();
            if values.len() == results.variants.len() {
                checked += 1;
                if rule.holds(&values, None) {
                    held.push(digit.to_string());
                }
            }
        }
        if checked < 2 {
            continue;
        }
        let which = match held.as_slice() {
            [] => String::new(),
            [one] => format!(" ({noun} {one} only)"),
            _ => format!(" ({nouns} {})", held.join(", ")),
        };
        parts.push(format!(
            "held-out {nouns}, seed {}: holds for {} of {checked}{which}",
            seed.seed,
            held.len()
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Checks every finding with the study's metrics: BCE; the reference probe, then the
/// converged one; the sample and interpolation measures of the reference classifier; the
/// published anomaly score, then the per-image BCE.
pub fn check(results: &StudyResults) -> Vec<Finding> {
    let digit = results.study.anomaly.primary_digit();
    let samplers = &results.study.samplers;
    let of = |metric: Metric| move |v: &VariantResults| metric.of(v);
    let bce = of(Metric::TestBce);
    let reference_probe = of(Metric::ReferenceProbe);
    let reference_baseline = |s: &SeedResults| Metric::ReferenceProbe.of_random_encoder(s);
    let converged_probe = of(Metric::ConvergedProbe);
    let converged_baseline = |s: &SeedResults| Metric::ConvergedProbe.of_random_encoder(s);
    let confidence = of(Metric::SampleConfidence);
    let fcd = of(Metric::FrechetDistance);
    let inner = of(Metric::InnerFrameConfidence);
    let step = of(Metric::LargestStep);
    let published_auc = of(Metric::PublishedAuc(digit));
    let bce_auc = of(Metric::Auc(digit));
    let spec = |protocol, value| MetricSpec {
        protocol,
        value,
        baseline: None,
        variants: None,
    };
    let metrics = FindingMetrics {
        bce: spec("test BCE", &bce),
        probe: vec![
            MetricSpec {
                protocol: "reference probe (Adam, early stopping)",
                value: &reference_probe,
                baseline: Some(&reference_baseline),
                variants: None,
            },
            MetricSpec {
                protocol: "converged probe",
                value: &converged_probe,
                baseline: Some(&converged_baseline),
                variants: None,
            },
        ],
        samples: [
            MetricSpec {
                variants: Some(samplers),
                ..spec("classifier confidence", &confidence)
            },
            MetricSpec {
                variants: Some(samplers),
                ..spec("Fréchet classifier distance", &fcd)
            },
        ],
        interpolation: [
            spec("inner-frame confidence", &inner),
            spec("largest step", &step),
        ],
        anomaly: vec![
            spec("published (pre-fix) score", &published_auc),
            spec("per-image BCE score", &bce_auc),
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
        crate::tests::with_bce(&bce)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-5
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
        assert_eq!(worst.verdict_words, "holds");
        let c = &worst.checks[0];
        assert_eq!((c.holds_in, c.seeds), (3, 3));
        // The rival of each seed: stacked (100, 101), then vanilla (110 > 105). Margins 20,
        // 21, 14: mean 18.3333, sd 3.785939, half-width t(0.975, 2) * sd / sqrt(3) =
        // 4.302653 * 3.785939 / 1.732051 = 9.404794 (Python's statistics module).
        let p = &c.comparisons[0];
        assert_eq!(
            p.description,
            "BCE(shallow) - highest BCE of the rest (rival: stacked in 2, vanilla in 1 seeds)"
        );
        assert!(close(p.difference.mean, 18.333333));
        assert!(close(p.difference.ci_low.unwrap(), 8.928539));
        assert!(close(p.difference.ci_high.unwrap(), 27.738128));
        // vanilla, sparse and vq are the best three in seeds 1 and 2 only (vanilla 110 >
        // stacked 105 in seed 3).
        let best = &findings[1];
        assert_eq!((best.checks[0].holds_in, best.checks[0].seeds), (2, 3));
        assert_eq!(best.verdict, Verdict::Inconclusive);
        // The probe, sample, interpolation and anomaly findings have no results here.
        for f in &findings[2..] {
            assert_eq!(f.verdict, Verdict::NotCheckable, "{}", f.claim);
        }
    }

    #[test]
    fn the_interval_compares_with_the_rival_the_seed_check_uses() {
        // shallow is highest in every seed by 1.0, 1.1, 1.2, against stacked, vanilla,
        // stacked. Against the rival with the best mean (stacked, 86.6) the differences would
        // be 1, 11, 1.2 and their interval would cover zero.
        let results = study(&[
            ("shallow", [90.0, 91.0, 92.0]),
            ("stacked", [89.0, 80.0, 90.8]),
            ("vanilla", [70.0, 89.9, 70.0]),
        ]);
        let worst = &check(&results)[0];
        let p = &worst.checks[0].comparisons[0];
        assert!(p.description.contains("stacked in 2, vanilla in 1 seeds"));
        // Margins 1.0, 1.1, 1.2: mean 1.1, sd 0.1, half-width 4.302653 * 0.1 / sqrt(3).
        assert!(close(p.difference.mean, 1.1));
        assert!(close(p.difference.ci_low.unwrap(), 1.1 - 0.248414));
        assert_eq!(worst.verdict, Verdict::Holds);
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
        assert!(
            worst
                .verdict_words
                .ends_with("; test BCE: only 2 of the study's 3 seeds have every result yet"),
            "{}",
            worst.verdict_words
        );
    }

    #[test]
    fn a_study_without_the_named_variants_is_not_checkable_and_does_not_panic() {
        // The inline-variant study of issue 16: vanilla and sparse_p10 only, two held-out
        // classes (so the every-class evidence is asked for too).
        let mut results = study(&[
            ("vanilla", [64.0, 66.0, 65.0]),
            ("sparse_p10", [65.0, 64.0, 66.0]),
        ]);
        results.study.anomaly.digits = vec![1, 7];
        let findings = check(&results);
        assert_eq!(findings.len(), 7);
        for f in &findings {
            assert_eq!(f.verdict, Verdict::NotCheckable, "{}", f.claim);
        }
        assert!(
            findings[0].checks[0]
                .evidence
                .contains("shallow not in the study"),
            "{}",
            findings[0].checks[0].evidence
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

    fn protocol(name: &str, verdict: Verdict) -> ProtocolCheck {
        ProtocolCheck {
            protocol: name.into(),
            holds_in: 0,
            seeds: 0,
            study_seeds: 0,
            comparisons: Vec::new(),
            verdict,
            scope: None,
            evidence: String::new(),
        }
    }

    const ALL: [Verdict; 7] = [
        Verdict::Holds,
        Verdict::DoesNotHold,
        Verdict::Inconclusive,
        Verdict::ProtocolDependent,
        Verdict::IndicationFor,
        Verdict::IndicationAgainst,
        Verdict::NotCheckable,
    ];

    #[test]
    fn the_overall_rule_treats_the_protocols_alike_in_every_combination() {
        use Verdict::*;
        for a in ALL {
            for b in ALL {
                let (v, words) = overall(&[protocol("A", a), protocol("B", b)]);
                let (w, _) = overall(&[protocol("A", b), protocol("B", a)]);
                assert_eq!(v, w, "symmetric: {a:?} {b:?}");
                let expected = match (a, b) {
                    (NotCheckable, x) | (x, NotCheckable) => x,
                    (x, y) if x == y => x,
                    _ => ProtocolDependent,
                };
                assert_eq!(v, expected, "{a:?} {b:?}: {words}");
                assert!(words.starts_with(v.label()), "{a:?} {b:?}: {words}");
            }
            // One protocol alone gives its own verdict.
            assert_eq!(overall(&[protocol("A", a)]).0, a);
        }
        assert_eq!(overall(&[]).0, NotCheckable);
    }

    #[test]
    fn the_overall_words_say_which_protocol_gives_which_outcome() {
        use Verdict::*;
        let words = |a, b| overall(&[protocol("reference", a), protocol("converged", b)]).1;
        // Finding 4 on MNIST: a converged "does not hold" is no longer ignored.
        assert_eq!(
            words(Inconclusive, DoesNotHold),
            "protocol-dependent: inconclusive under reference; does not hold under converged"
        );
        assert_eq!(
            words(Holds, DoesNotHold),
            "protocol-dependent: holds only under reference; does not hold under converged"
        );
        assert_eq!(
            words(Inconclusive, Holds),
            "protocol-dependent: holds only under converged; inconclusive under reference"
        );
        assert_eq!(words(DoesNotHold, DoesNotHold), "does not hold");
        assert_eq!(
            words(NotCheckable, Holds),
            "holds under converged; not checkable under reference"
        );
        assert_eq!(
            words(IndicationFor, IndicationAgainst),
            "protocol-dependent: indication for (1 seed) only under reference; \
             indication against (1 seed) under converged"
        );
        let mut scoped = protocol("published", Inconclusive);
        scoped.scope = Some("held-out classes, seed 42: holds for 1 of 10 (class 1 only)".into());
        let (v, w) = overall(&[scoped, protocol("BCE", DoesNotHold)]);
        assert_eq!(v, ProtocolDependent);
        assert_eq!(
            w,
            "protocol-dependent: inconclusive under published; held-out classes, seed 42: \
             holds for 1 of 10 (class 1 only); does not hold under BCE"
        );
    }

    #[test]
    fn one_seed_gives_an_indication_never_a_verdict() {
        assert_eq!(protocol_verdict(1, 1, &[]), Verdict::IndicationFor);
        assert_eq!(protocol_verdict(0, 1, &[]), Verdict::IndicationAgainst);
        assert_eq!(protocol_verdict(0, 0, &[]), Verdict::NotCheckable);
        assert_eq!(protocol_verdict(4, 5, &[]), Verdict::Inconclusive);
        let results = crate::tests::with_bce(&[
            ("shallow", &[120.0]),
            ("stacked", &[100.0]),
            ("vanilla", &[64.0]),
        ]);
        let worst = &check(&results)[0];
        assert_eq!(worst.verdict, Verdict::IndicationFor);
        assert_eq!(worst.verdict_words, "indication for (1 seed)");
    }

    #[test]
    fn the_strong_detectors_must_be_the_top_two_on_every_held_out_class() {
        use ae_eval::roc::RocCurve;
        use ae_eval::tasks::AnomalyResult;
        let mut results = study(&[
            ("shallow", [1.0; 3]),
            ("stacked", [1.0; 3]),
            ("vanilla", [1.0; 3]),
            ("sparse", [1.0; 3]),
            ("vq", [1.0; 3]),
        ]);
        results.study.anomaly.digits = vec![0, 1, 2];
        let roc = RocCurve {
            fpr: vec![0.0, 1.0],
            tpr: vec![0.0, 1.0],
            thresholds: vec![f64::INFINITY, 0.0],
        };
        // Published-score AUCs per class (shallow, stacked, vanilla, sparse, vq): class 1
        // (the primary one) puts shallow and stacked first and second; class 0 only in the
        // top three (vanilla second), which the reference's table does not claim; class 2
        // last. The BCE score ranks them last everywhere.
        let published = [
            [0.9, 0.6, 0.8, 0.5, 0.4],
            [0.9, 0.8, 0.7, 0.6, 0.5],
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
        // The primary class is the reference's, 1: the published score holds there.
        assert_eq!(strong.checks[0].verdict, Verdict::Holds);
        assert_eq!(strong.checks[1].verdict, Verdict::DoesNotHold);
        assert_eq!(
            strong.checks[0].scope.as_deref(),
            Some(
                "held-out digits, seed 1: holds for 1 of 3 (digit 1 only); \
                 held-out digits, seed 2: holds for 1 of 3 (digit 1 only); \
                 held-out digits, seed 3: holds for 1 of 3 (digit 1 only)"
            )
        );
        assert!(strong.checks[1]
            .scope
            .as_deref()
            .unwrap()
            .starts_with("held-out digits, seed 1: holds for 0 of 3;"));
        assert_eq!(strong.verdict, Verdict::ProtocolDependent);
        assert!(
            strong
                .verdict_words
                .starts_with("protocol-dependent: holds only under published (pre-fix) score"),
            "{}",
            strong.verdict_words
        );
    }

    #[test]
    fn samples_and_interpolations_are_judged_by_their_measures() {
        use ae_results::quality::{InterpolationQuality, SampleQuality};
        let mut results = study(&[
            ("vanilla", [64.0; 3]),
            ("vae", [70.0; 3]),
            ("beta_vae_strict", [80.0; 3]),
            ("beta_vae_loose", [66.0; 3]),
            ("vq", [64.0; 3]),
        ]);
        // (confidence, FCD) per variant and seed: beta_vae_strict is the most confident and
        // vq the least in every seed, but vae's samples are closest to the test images.
        let samples: [(&str, [(f64, f64); 3]); 4] = [
            ("vae", [(0.90, 15.0), (0.91, 16.0), (0.89, 14.0)]),
            (
                "beta_vae_strict",
                [(0.95, 20.0), (0.96, 22.0), (0.94, 21.0)],
            ),
            ("beta_vae_loose", [(0.85, 18.0), (0.84, 19.0), (0.86, 18.5)]),
            ("vq", [(0.60, 60.0), (0.62, 58.0), (0.61, 59.0)]),
        ];
        // (inner-frame confidence, largest step): the VAE family ahead on both.
        let interpolation: [(&str, [(f64, f64); 3]); 5] = [
            ("vanilla", [(0.70, 0.20), (0.71, 0.22), (0.69, 0.21)]),
            ("vae", [(0.85, 0.05), (0.86, 0.06), (0.84, 0.05)]),
            (
                "beta_vae_strict",
                [(0.90, 0.04), (0.91, 0.04), (0.92, 0.05)],
            ),
            ("beta_vae_loose", [(0.80, 0.08), (0.81, 0.07), (0.80, 0.09)]),
            ("vq", [(0.60, 0.30), (0.61, 0.31), (0.62, 0.29)]),
        ];
        for (s, seed) in results.seeds.iter_mut().enumerate() {
            for v in &mut seed.variants {
                if let Some((_, q)) = samples.iter().find(|(n, _)| *n == v.variant) {
                    v.sample_quality = Some(SampleQuality {
                        frechet_distance: q[s].1,
                        mean_confidence: q[s].0,
                        class_entropy: 2.0,
                        draws: 100,
                    });
                }
                let (_, q) = interpolation.iter().find(|(n, _)| *n == v.variant).unwrap();
                v.interpolation_quality = Some(InterpolationQuality {
                    mean_inner_confidence: q[s].0,
                    max_step_fraction: q[s].1,
                    pairs: 10,
                });
            }
        }
        let findings = check(&results);
        // Finding 5: vanilla cannot sample and is not asked for; the measures disagree.
        let five = &findings[4];
        assert_eq!(five.checks[0].verdict, Verdict::Holds);
        assert_eq!(five.checks[1].verdict, Verdict::DoesNotHold);
        assert_eq!((five.checks[1].holds_in, five.checks[1].seeds), (0, 3));
        assert_eq!(
            five.verdict_words,
            "protocol-dependent: holds only under classifier confidence; does not hold under \
             Fréchet classifier distance"
        );
        // beta_vae_strict's confidence margin over the best other sampler (vae): 0.05 in
        // every seed.
        let margin = &five.checks[0].comparisons[0];
        assert!(
            margin.description.contains("rival: vae in 3 seeds"),
            "{}",
            margin.description
        );
        assert!(close(margin.difference.mean, 0.05));
        // Finding 6: the lowest family confidence (beta_vae_loose 0.80, 0.81, 0.80) against
        // vanilla's (0.70, 0.71, 0.69): margins 0.10, 0.10, 0.11.
        let six = &findings[5];
        assert_eq!(six.verdict, Verdict::Holds, "{}", six.verdict_words);
        let m = &six.checks[0].comparisons[0];
        assert!(
            close(m.difference.mean, 0.31 / 3.0),
            "{}",
            m.difference.mean
        );
        // Without vq, finding 5 cannot be checked.
        for seed in &mut results.seeds {
            seed.variants.retain(|v| v.variant != "vq");
        }
        results.variants.retain(|v| v != "vq");
        assert_eq!(check(&results)[4].verdict, Verdict::NotCheckable);
    }

    #[test]
    fn the_early_stopped_probe_of_sparse_is_described_from_the_committed_results() {
        // MNIST seed 42's committed probe of sparse (results/store): validation accuracies
        // 0.0994, 0.0994, 0.0994, 0.0946, best epoch 1.
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../results/store/jobs/seed42/linear_probe/sparse.74b6a395e24e86a9.json.gz"
        );
        let mut json = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(file).unwrap()),
            &mut json,
        )
        .unwrap();
        let cached: serde_json::Value = serde_json::from_str(&json).unwrap();
        let probe: ae_results::probe::LinearProbe =
            serde_json::from_value(cached["result"].clone()).unwrap();
        let mut results = study(&[("sparse", [1.0; 3]), ("vanilla", [1.0; 3])]);
        results.seeds[0].variants[0].probe = Some(probe.clone());
        assert_eq!(
            early_stopping_of(&results, "sparse").unwrap(),
            "sparse's early-stopped probe peaked at a validation accuracy of 0.10 (chance: \
             0.10) in epoch 1"
        );
        let mut later = probe;
        later.sampled.validation_accuracies = vec![0.1, 0.2, 0.3];
        later.sampled.best_epoch = 3;
        results.seeds[1].variants[0].probe = Some(later);
        assert!(early_stopping_of(&results, "sparse")
            .unwrap()
            .ends_with("of 0.10-0.30 (chance: 0.10) in epochs 1-3"));
        assert_eq!(early_stopping_of(&results, "vanilla"), None);
    }
}
