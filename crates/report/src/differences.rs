//! Where our numbers differ from the reference's published ones, measured: for each compared
//! metric, which variants' published numbers lie inside our 95% prediction interval for one
//! new seed (a difference one more run of our study would show 95% of the time) and which lie
//! outside it, by how much. The reference ran one seed, so its number is one draw; the range
//! of five seeds would miss a new draw a third of the time.

use std::fmt::Write as _;

use ae_eval::stats::summarize;

use crate::tables::outside_by;

use crate::reference::{ReferenceRow, ReferenceStudy};
use ae_results::metrics::Metric;
use ae_results::study_results::StudyResults;

/// Where one variant's published number lies against our seeds.
#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// Inside our 95% prediction interval for one new seed.
    InsidePredictionInterval,
    /// Outside it: our mean minus the published number, that relative to it, and how far
    /// beyond the interval the published number lies (negative below, positive above).
    Outside {
        /// Our mean minus the published number.
        difference: f64,
        /// `difference` over the published number.
        relative: f64,
        /// The published number minus the nearer end of the interval.
        beyond: f64,
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
    /// Our 95% prediction interval for one new seed.
    pub interval: (f64, f64),
    /// Where the published number lies.
    pub placement: Placement,
}

/// A metric compared with the published numbers.
struct Compared {
    name: &'static str,
    decimals: usize,
    /// Ours, given the primary held-out class.
    ours: fn(u8) -> Metric,
    published: fn(&ReferenceRow) -> f64,
}

const METRICS: [Compared; 3] = [
    Compared {
        name: "Reconstruction BCE",
        decimals: 2,
        ours: |_| Metric::TestBce,
        published: |r| r.reconstruction_bce,
    },
    Compared {
        name: "Probe accuracy (reference protocol)",
        decimals: 4,
        ours: |_| Metric::ReferenceProbe,
        published: |r| r.probe_accuracy,
    },
    Compared {
        name: "Anomaly AUC (published score)",
        decimals: 3,
        ours: Metric::PublishedAuc,
        published: |r| r.anomaly_auc_old_score,
    },
];

/// Places every variant's published value of `metric` against our seeds.
fn place(results: &StudyResults, study: &ReferenceStudy, metric: &Compared) -> Vec<Placed> {
    let digit = results.study.anomaly.primary_digit();
    results
        .variants
        .iter()
        .filter_map(|name| {
            let published = (metric.published)(study.row(name)?);
            let ours = results.values(name, (metric.ours)(digit));
            let summary = summarize(&ours)?;
            // One seed has no interval.
            let (lo, hi) = summary.prediction_interval()?;
            let mean = summary.mean;
            let beyond = outside_by(published, lo, hi);
            let placement = if beyond == 0.0 {
                Placement::InsidePredictionInterval
            } else {
                Placement::Outside {
                    difference: mean - published,
                    relative: (mean - published) / published,
                    beyond,
                }
            };
            Some(Placed {
                variant: name.clone(),
                published,
                mean,
                seeds: ours.len(),
                interval: (lo, hi),
                placement,
            })
        })
        .collect()
}

/// The measured-differences section of the report (Markdown), or `None` without published
/// numbers or with fewer than two seeds (one seed has no interval to compare with).
pub fn section(results: &StudyResults, study: &ReferenceStudy) -> Option<String> {
    if results.seeds.len() < 2 {
        return None;
    }
    let digit = results.study.anomaly.primary_digit();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Where our numbers differ from the published ones, measured\n\n\
         The reference ran one seed, so each published number is a single draw. It is placed \
         against our 95% prediction interval for one new seed (mean ± t(0.975, n-1) · sd · \
         sqrt(1 + 1/n) over our seeds): inside it, the difference is one that another run of \
         our study would show 95% of the time; outside it, the seeds do not explain it. \
         Variants with fewer than two seeds are left out.\n"
    );
    for metric in &METRICS {
        if metric.name.starts_with("Anomaly")
            && digit != ae_results::study::REFERENCE_ANOMALOUS_DIGIT
        {
            continue;
        }
        let placed = place(results, study, metric);
        if placed.is_empty() {
            continue;
        }
        let inside: Vec<&str> = placed
            .iter()
            .filter(|p| p.placement == Placement::InsidePredictionInterval)
            .map(|p| p.variant.as_str())
            .collect();
        let d = metric.decimals;
        let outside: Vec<String> = placed
            .iter()
            .filter_map(|p| match p.placement {
                Placement::Outside {
                    difference,
                    relative,
                    beyond,
                } => Some(format!(
                    "{} (ours {:.d$} over {} seeds, prediction interval [{:.d$}, {:.d$}], \
                     published {:.d$}: {} it by {:.d$}; ours minus published {difference:+.d$}, \
                     {:+.1}%)",
                    p.variant,
                    p.mean,
                    p.seeds,
                    p.interval.0,
                    p.interval.1,
                    p.published,
                    if beyond > 0.0 { "above" } else { "below" },
                    beyond.abs(),
                    100.0 * relative
                )),
                Placement::InsidePredictionInterval => None,
            })
            .collect();
        let _ = writeln!(
            out,
            "- **{}**: inside our prediction interval for {} of {} variants{}; outside for {}.",
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
    fn published_numbers_are_placed_against_the_prediction_interval() {
        let study = crate::reference::study("mnist").unwrap();
        // vanilla's published BCE is 63.92; ours 63.5, 64.5, 64 (mean 64, sd 0.5) give
        // 64 ± t(0.975, 2) · 0.5 · sqrt(4/3) = 64 ± 2.484138: inside. shallow's 123.2: ours 110, 111, 112 (mean 111, sd 1) give 111 ± t(0.975, 2)
        // · sqrt(4/3) = 111 ± 4.968275 = [106.031725, 115.968275]; 123.2 lies 7.231725 above.
        let results = crate::tests::with_bce(&[
            ("vanilla", &[63.5, 64.5, 64.0]),
            ("shallow", &[110.0, 111.0, 112.0]),
        ]);
        let placed = place(&results, study, &METRICS[0]);
        assert_eq!(placed[0].placement, Placement::InsidePredictionInterval);
        let Placement::Outside {
            difference,
            relative,
            beyond,
        } = placed[1].placement
        else {
            panic!("shallow is outside");
        };
        assert!((difference + 12.2).abs() < 1e-9 && (relative + 12.2 / 123.2).abs() < 1e-12);
        assert!((beyond - 7.231725).abs() < 1e-6, "{beyond}");
        let text = section(&results, study).unwrap();
        assert!(
            text.contains("inside our prediction interval for 1 of 2 variants (vanilla)"),
            "{text}"
        );
        assert!(
            text.contains(
                "shallow (ours 111.00 over 3 seeds, prediction interval [106.03, 115.97], \
                 published 123.20: above it by 7.23; ours minus published -12.20, -9.9%)"
            ),
            "{text}"
        );
    }
}
