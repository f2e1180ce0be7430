//! Where our numbers differ from the reference's published ones, measured: for each compared
//! metric, which variants' published numbers lie inside the range of our seeds (a difference
//! the seeds alone produce) and which lie outside it, by how much.

use std::fmt::Write as _;

use ae_eval::stats::{range, summarize};

use crate::reference::{ReferenceRow, ReferenceStudy};
use crate::results::{StudyResults, VariantResults};

/// Where one variant's published number lies against our seeds.
#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// Between our lowest and highest seed.
    InsideSeedRange,
    /// Outside it: our mean minus the published number, and that relative to it.
    Outside {
        /// Our mean minus the published number.
        difference: f64,
        /// `difference` over the published number.
        relative: f64,
    },
}

/// One compared metric of one variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// Variant name.
    pub variant: String,
    /// The published number.
    pub published: f64,
    /// Our mean over the seeds.
    pub mean: f64,
    /// Seeds with a value.
    pub seeds: usize,
    /// Where the published number lies.
    pub placement: Placement,
}

/// A metric compared with the published numbers.
struct Metric {
    name: &'static str,
    decimals: usize,
    ours: fn(&VariantResults, u8) -> Option<f64>,
    published: fn(&ReferenceRow) -> f64,
}

const METRICS: [Metric; 3] = [
    Metric {
        name: "Reconstruction BCE",
        decimals: 2,
        ours: |v, _| v.reconstruction.as_ref().map(|r| r.mean_bce),
        published: |r| r.reconstruction_bce,
    },
    Metric {
        name: "Probe accuracy (reference protocol)",
        decimals: 4,
        ours: |v, _| v.probe.as_ref().map(|p| p.sampled.test_accuracy),
        published: |r| r.probe_accuracy,
    },
    Metric {
        name: "Anomaly AUC (published score)",
        decimals: 3,
        ours: |v, digit| v.anomaly_for(digit).map(|a| a.published_auc),
        published: |r| r.anomaly_auc_old_score,
    },
];

/// Places every variant's published value of `metric` against our seeds.
fn place(results: &StudyResults, study: &ReferenceStudy, metric: &Metric) -> Vec<Placed> {
    let digit = results.experiment.anomaly.primary_digit();
    results
        .variants
        .iter()
        .filter_map(|name| {
            let published = (metric.published)(study.row(name)?);
            let ours = results.values(name, |v| (metric.ours)(v, digit));
            if ours.len() < 2 {
                return None; // one seed has no range
            }
            let (lo, hi) = range(&ours)?;
            let mean = summarize(&ours)?.mean;
            let placement = if lo <= published && published <= hi {
                Placement::InsideSeedRange
            } else {
                Placement::Outside {
                    difference: mean - published,
                    relative: (mean - published) / published,
                }
            };
            Some(Placed {
                variant: name.clone(),
                published,
                mean,
                seeds: ours.len(),
                placement,
            })
        })
        .collect()
}

/// The measured-differences section of the report (Markdown), or `None` without published
/// numbers or with fewer than two seeds (one seed has no range to compare with).
pub fn section(results: &StudyResults, study: &ReferenceStudy) -> Option<String> {
    if results.seeds.len() < 2 {
        return None;
    }
    let digit = results.experiment.anomaly.primary_digit();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Where our numbers differ from the published ones, measured\n\n\
         A published number inside the range of our seeds differs from ours no more than our \
         seeds differ among themselves; one outside it is a difference the seeds do not \
         explain (the reference ran one seed, so its own spread is unknown). Variants with \
         fewer than two seeds are left out.\n"
    );
    for metric in &METRICS {
        if metric.name.starts_with("Anomaly")
            && digit != crate::experiment::REFERENCE_ANOMALOUS_DIGIT
        {
            continue;
        }
        let placed = place(results, study, metric);
        if placed.is_empty() {
            continue;
        }
        let inside: Vec<&str> = placed
            .iter()
            .filter(|p| p.placement == Placement::InsideSeedRange)
            .map(|p| p.variant.as_str())
            .collect();
        let d = metric.decimals;
        let outside: Vec<String> = placed
            .iter()
            .filter_map(|p| match p.placement {
                Placement::Outside {
                    difference,
                    relative,
                } => Some(format!(
                    "{} (ours {:.d$} over {} seeds, published {:.d$}: {difference:+.d$}, {:+.1}%)",
                    p.variant,
                    p.mean,
                    p.seeds,
                    p.published,
                    100.0 * relative
                )),
                Placement::InsideSeedRange => None,
            })
            .collect();
        let _ = writeln!(
            out,
            "- **{}**: inside our seed range for {} of {} variants{}; outside for {}.",
            metric.name,
            inside.len(),
            placed.len(),
            if inside.is_empty() {
                String::new()
            } else {
                format!(" ({})", inside.join(", "))
            },
            if outside.is_empty() {
                "none".to_string()
            } else {
                outside.join("; ")
            }
        );
    }
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_numbers_are_placed_against_the_seed_range() {
        let study = crate::reference::study("mnist").unwrap();
        // vanilla's published BCE is 63.92: inside [63.5, 64.5]; shallow's 123.2 is above
        // [110, 112], ours (mean 111) minus it is -12.2, -12.2 / 123.2 = -9.90%.
        let results = crate::results::tests::with_bce(&[
            ("vanilla", &[63.5, 64.5]),
            ("shallow", &[110.0, 112.0]),
        ]);
        let placed = place(&results, study, &METRICS[0]);
        assert_eq!(placed[0].placement, Placement::InsideSeedRange);
        let Placement::Outside {
            difference,
            relative,
        } = placed[1].placement
        else {
            panic!("shallow is outside");
        };
        assert!((difference + 12.2).abs() < 1e-9 && (relative + 12.2 / 123.2).abs() < 1e-12);
        let text = section(&results, study).unwrap();
        assert!(
            text.contains("inside our seed range for 1 of 2 variants (vanilla)"),
            "{text}"
        );
        assert!(
            text.contains("shallow (ours 111.00 over 2 seeds, published 123.20: -12.20, -9.9%)"),
            "{text}"
        );
    }
}
