//! The reference's findings with the families in the field. A study that adds autoencoder
//! families to the reference's nine checks every finding over all its contestants (the
//! findings section does, with the same machinery as for the nine); this section sets those
//! verdicts beside the same check over the nine alone, on the same seeds and jobs, and says
//! where each family stands on the measures the bakeoff compares.

use std::fmt::Write as _;

use ae_results::metrics::Metric;
use ae_results::study_results::StudyResults;

use crate::findings::{self, Finding};

/// The study's results without its family variants: the reference's nine (or whichever
/// variants built from parts it has), as if the families had not run.
pub fn nine_alone(results: &StudyResults) -> StudyResults {
    let families = &results.study.families;
    let keep = |name: &String| !families.contains(name);
    let mut nine = results.clone();
    nine.variants.retain(keep);
    nine.study.samplers.retain(keep);
    nine.study.families.clear();
    for seed in &mut nine.seeds {
        seed.variants.retain(|v| keep(&v.variant));
    }
    nine
}

/// A finding's verdict with the seeds behind each check: "holds (test BCE: 5 of 5)".
fn verdict_with_counts(f: &Finding) -> String {
    let counts: Vec<String> = f
        .checks
        .iter()
        .map(|c| format!("{}: {} of {}", c.protocol, c.holds_in, c.seeds))
        .collect();
    if counts.is_empty() {
        f.verdict.label().to_string()
    } else {
        format!("{} ({})", f.verdict.label(), counts.join("; "))
    }
}

/// One measure a family is ranked on.
struct Measure {
    /// What the sentence calls it.
    label: String,
    metric: Metric,
    higher_is_better: bool,
    decimals: usize,
    /// Whether only the variants that sample are compared.
    samplers_only: bool,
}

/// Where `variant` stands on `m` among the contestants that have it: its mean over the seeds
/// in which every one of them has the metric, its rank (1 = best; ties share the better
/// rank), how many were ranked and how many seeds; `None` without such a seed.
fn standing(
    results: &StudyResults,
    variant: &str,
    m: &Measure,
) -> Option<(f64, usize, usize, usize)> {
    let pool: Vec<&String> = results
        .variants
        .iter()
        .filter(|v| !m.samplers_only || results.study.samplers.contains(v))
        .collect();
    if !pool.iter().any(|v| v.as_str() == variant) {
        return None;
    }
    let common: Vec<_> = results
        .seeds
        .iter()
        .filter(|s| {
            pool.iter()
                .all(|v| s.variant(v).and_then(|r| m.metric.of(r)).is_some())
        })
        .collect();
    if common.is_empty() {
        return None;
    }
    let mean = |v: &str| {
        common
            .iter()
            .map(|s| {
                s.variant(v)
                    .and_then(|r| m.metric.of(r))
                    .unwrap_or(f64::NAN)
            })
            .sum::<f64>()
            / common.len() as f64
    };
    let own = mean(variant);
    let better = pool
        .iter()
        .filter(|v| {
            let other = mean(v);
            if m.higher_is_better {
                other > own
            } else {
                other < own
            }
        })
        .count();
    Some((own, better + 1, pool.len(), common.len()))
}

/// The section, or `None` for a study without families.
pub fn section(results: &StudyResults, findings_all: &[Finding]) -> Option<String> {
    let families = &results.study.families;
    if families.is_empty() {
        return None;
    }
    let nine = nine_alone(results);
    let findings_nine = findings::check(&nine);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## The reference's findings with the families in the field\n\n\
         This study adds {} autoencoder families ({}) to the {} variants built from the \
         reference's parts. The verdicts above are checked over all {} contestants; here they \
         stand beside the same check over the {} alone, on the same seeds and jobs. A verdict \
         that changes names a family that overturns the reference's conclusion in this wider \
         field.\n",
        families.len(),
        families.join(", "),
        nine.variants.len(),
        results.variants.len(),
        nine.variants.len()
    );
    let _ = writeln!(
        out,
        "| # | finding | the {} alone | all {} contestants |\n|---|---|---|---|",
        nine.variants.len(),
        results.variants.len()
    );
    for (i, (alone, all)) in findings_nine.iter().zip(findings_all).enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            i + 1,
            all.claim,
            verdict_with_counts(alone),
            verdict_with_counts(all)
        );
    }
    let digit = results.study.anomaly.primary_digit();
    let measures = [
        Measure {
            label: "test BCE".into(),
            metric: Metric::TestBce,
            higher_is_better: false,
            decimals: 2,
            samplers_only: false,
        },
        Measure {
            label: "converged probe accuracy".into(),
            metric: Metric::ConvergedProbe,
            higher_is_better: true,
            decimals: 3,
            samplers_only: false,
        },
        Measure {
            label: format!("anomaly AUC (class {digit} held out, per-image BCE score)"),
            metric: Metric::Auc(digit),
            higher_is_better: true,
            decimals: 3,
            samplers_only: false,
        },
        Measure {
            label: "k-means accuracy".into(),
            metric: Metric::ClusteringAccuracy,
            higher_is_better: true,
            decimals: 3,
            samplers_only: false,
        },
        Measure {
            label: "Fréchet classifier distance of its samples".into(),
            metric: Metric::FrechetDistance,
            higher_is_better: false,
            decimals: 2,
            samplers_only: true,
        },
    ];
    let _ = writeln!(
        out,
        "\n### Where each family stands\n\n\
         Each measure is the mean over the seeds in which every contestant compared has it, \
         with the family's rank among them (1 = best; samples are ranked among the variants \
         that sample) and the number of those seeds.\n"
    );
    for family in families {
        let mut parts = Vec::new();
        for m in &measures {
            match standing(results, family, m) {
                Some((value, rank, of, seeds)) => parts.push(format!(
                    "{} {value:.prec$} (rank {rank} of {of}; {seeds} seed{})",
                    m.label,
                    if seeds == 1 { "" } else { "s" },
                    prec = m.decimals
                )),
                None if m.samplers_only && !results.study.samplers.contains(family) => {
                    parts.push("it does not sample".into())
                }
                None => parts.push(format!("{}: no complete seed yet", m.label)),
            }
        }
        let _ = writeln!(out, "- **{family}**: {}.", parts.join("; "));
    }
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Verdict;

    #[test]
    fn the_nine_alone_drop_every_family_variant() {
        let results = crate::tests::with_bce(&[
            ("shallow", &[120.0, 121.0]),
            ("vae", &[70.0, 71.0]),
            ("wasserstein", &[66.0, 67.0]),
        ]);
        assert_eq!(results.study.families, ["wasserstein"]);
        assert_eq!(results.study.samplers, ["vae", "wasserstein"]);
        let nine = nine_alone(&results);
        assert_eq!(nine.variants, ["shallow", "vae"]);
        assert_eq!(nine.study.samplers, ["vae"]);
        assert!(nine.seeds.iter().all(|s| s.variants.len() == 2));
        assert!(section(&nine, &findings::check(&nine)).is_none());
    }

    #[test]
    fn a_family_that_reconstructs_worse_than_shallow_overturns_finding_one() {
        let results = crate::tests::with_bce(&[
            ("shallow", &[120.0, 122.0, 124.0]),
            ("vanilla", &[64.0, 66.0, 65.0]),
            ("contractive", &[130.0, 131.0, 133.0]),
        ]);
        let all = findings::check(&results);
        assert_eq!(all[0].verdict, Verdict::DoesNotHold);
        assert_eq!(
            findings::check(&nine_alone(&results))[0].verdict,
            Verdict::Holds
        );
        let text = section(&results, &all).unwrap();
        assert!(text.contains(
            "| 1 | shallow reconstructs worst | holds (test BCE: 3 of 3) | \
             does not hold (test BCE: 0 of 3) |"
        ));
        // Mean BCE 131.33, the highest of three: rank 3 of 3.
        assert!(text.contains("- **contractive**: test BCE 131.33 (rank 3 of 3; 3 seeds)"));
        assert!(text.contains("converged probe accuracy: no complete seed yet"));
        assert!(text.contains("it does not sample"));
    }

    #[test]
    fn ranks_use_only_the_seeds_every_contestant_has() {
        let mut results =
            crate::tests::with_bce(&[("vanilla", &[60.0, 70.0]), ("tied", &[65.0, 50.0])]);
        // vanilla lacks seed 2: only seed 1 counts, where tied is worse.
        results.seeds[1].variants.retain(|v| v.variant != "vanilla");
        let m = Measure {
            label: "test BCE".into(),
            metric: Metric::TestBce,
            higher_is_better: false,
            decimals: 2,
            samplers_only: false,
        };
        assert_eq!(standing(&results, "tied", &m), Some((65.0, 2, 2, 1)));
    }
}
