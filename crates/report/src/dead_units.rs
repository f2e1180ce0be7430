//! "Why shallow differs": the shallow variant's code layer ends in a ReLU, so code units can
//! die (be 0 on every image). Over many seeds, its test BCE against the number of dead units
//! says whether dead units explain its spread over the seeds and the reference's published
//! BCE, which lies far above our mean.

use std::fmt::Write as _;
use std::path::Path;

use ae_eval::render::{xy_plot, XyPlot};
use ae_eval::stats::{spearman, summarize};
use anyhow::{Context, Result};

use crate::table_name::TableName;
use crate::tables::{col, seeds_note, variant_rows, MetricTable};
use ae_results::metrics::Metric;
use ae_results::study_results::StudyResults;

/// The variant studied.
pub const VARIANT: &str = "shallow";

/// The scatter plot of BCE against dead units.
pub const DEAD_UNITS_PNG: &str = "shallow_dead_units.png";

/// Fewest seeds the analysis needs.
const MIN_SEEDS: usize = 3;

/// Dead code units of every variant's general model, per seed.
pub fn table(results: &StudyResults) -> MetricTable {
    MetricTable {
        name: TableName::DeadUnits,
        title: "Dead code units".into(),
        caption: format!(
            "Latent units of each general model that are exactly 0 on every test image \
             (`dead_units`) out of its `latent_units`: only a ReLU on the code layer \
             (shallow) can produce them. {}",
            seeds_note(results)
        ),
        seeds: results.seeds.iter().map(|s| s.seed).collect(),
        metrics: vec![
            col("dead_units", "dead units", 1),
            col("latent_units", "latent units", 0),
        ],
        rows: variant_rows(results, 2, |v| {
            let d = v.dead_units.as_ref();
            vec![Metric::DeadUnits.of(v), d.map(|d| d.latent_dim as f64)]
        }),
    }
}

/// The reference's published BCE of [`VARIANT`] on the study's dataset, if it published one.
pub fn published_bce(results: &StudyResults) -> Option<f64> {
    crate::reference::study(&results.study.dataset)
        .and_then(|s| s.row(VARIANT))
        .map(|r| r.reconstruction_bce)
}

/// The shallow variant's BCE against its dead code units over the seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadUnitStudy {
    /// (seed, test BCE, dead units, latent units) of every seed with both results.
    pub seeds: Vec<(u64, f64, usize, usize)>,
    /// Spearman correlation of dead units and BCE (`None` when either is constant).
    pub spearman: Option<f64>,
    /// Least-squares line BCE = intercept + slope · dead units (`None` when every seed has
    /// the same number of dead units).
    pub fit: Option<(f64, f64)>,
}

impl DeadUnitStudy {
    /// The study of `results`' shallow variant, or `None` with fewer than three seeds that
    /// have both its BCE and its dead-unit count.
    pub fn of(results: &StudyResults) -> Option<Self> {
        let seeds: Vec<(u64, f64, usize, usize)> = results
            .seeds
            .iter()
            .filter_map(|s| {
                let v = s.variant(VARIANT)?;
                let bce = Metric::TestBce.of(v)?;
                let d = v.dead_units.as_ref()?;
                Some((s.seed, bce, d.dead, d.latent_dim))
            })
            .collect();
        if seeds.len() < MIN_SEEDS {
            return None;
        }
        let x: Vec<f64> = seeds.iter().map(|s| s.2 as f64).collect();
        let y: Vec<f64> = seeds.iter().map(|s| s.1).collect();
        Some(Self {
            spearman: spearman(&x, &y),
            fit: least_squares(&x, &y),
            seeds,
        })
    }

    /// The seeds' BCEs, in seed order.
    fn bces(&self) -> Vec<f64> {
        self.seeds.iter().map(|s| s.1).collect()
    }

    /// Mean BCE and number of seeds for each count of dead units, fewest dead first.
    pub fn by_dead_count(&self) -> Vec<(usize, f64, usize)> {
        let mut counts: Vec<usize> = self.seeds.iter().map(|s| s.2).collect();
        counts.sort_unstable();
        counts.dedup();
        counts
            .into_iter()
            .map(|k| {
                let bces: Vec<f64> = self
                    .seeds
                    .iter()
                    .filter(|s| s.2 == k)
                    .map(|s| s.1)
                    .collect();
                (k, bces.iter().sum::<f64>() / bces.len() as f64, bces.len())
            })
            .collect()
    }

    /// The report section (Markdown), placing `published` (the reference's BCE, if any).
    pub fn section(&self, published: Option<f64>) -> String {
        let mut out = String::new();
        let n = self.seeds.len();
        let latent = self.seeds[0].3;
        let _ = writeln!(
            out,
            "## Why shallow differs\n\n\
             The shallow variant's code layer is Linear + ReLU, so a code unit whose input is \
             negative on every image is 0 for good (dead). Over {n} seeds of shallow at latent \
             {latent}: its test BCE against the number of its {latent} code units that are 0 on \
             every test image.\n"
        );
        let _ = writeln!(out, "| dead units | seeds | mean BCE |\n|---:|---:|---:|");
        for (k, mean, count) in self.by_dead_count() {
            let _ = writeln!(out, "| {k} | {count} | {mean:.2} |");
        }
        out.push('\n');
        let bces = self.bces();
        let summary = summarize(&bces).expect("at least three finite BCEs");
        let spearman = self
            .spearman
            .map_or("undefined (no spread)".into(), |r| format!("{r:.2}"));
        let fit = self.fit.map_or(
            "every seed has the same number of dead units, so no line is fitted".into(),
            |(a, b)| format!("the least-squares line is BCE = {a:.2} + {b:.2} · dead units"),
        );
        let _ = writeln!(
            out,
            "BCE over the {n} seeds: mean {:.2}, sd {:.2}, range {:.2} to {:.2}. Spearman \
             correlation of dead units and BCE: {spearman}; {fit}.",
            summary.mean,
            summary.sd.unwrap_or(0.0),
            bces.iter().copied().fold(f64::INFINITY, f64::min),
            bces.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        if let Some(published) = published {
            let _ = writeln!(out, "\n{}", self.published_text(published));
        }
        let _ = writeln!(
            out,
            "\n![BCE against dead code units]({DEAD_UNITS_PNG})\n\nThe numbers of every seed are \
             in `tables/{}.csv`.\n",
            TableName::DeadUnits
        );
        out
    }

    /// Whether dead units explain the published BCE, in words.
    fn published_text(&self, published: f64) -> String {
        let bces = self.bces();
        let summary = summarize(&bces).expect("at least three finite BCEs");
        let (lo, hi) = summary
            .prediction_interval()
            .expect("three seeds have an interval");
        let max_bce = bces.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let max_dead = self.seeds.iter().map(|s| s.2).max().unwrap_or(0);
        let place = if published > hi {
            format!("above our 95% prediction interval for one seed [{lo:.2}, {hi:.2}]")
        } else if published < lo {
            format!("below our 95% prediction interval for one seed [{lo:.2}, {hi:.2}]")
        } else {
            format!("inside our 95% prediction interval for one seed [{lo:.2}, {hi:.2}]")
        };
        let reach = match self.fit {
            Some((a, b)) if b > 0.0 => {
                let needed = (published - a) / b;
                format!(
                    " The fitted line reaches {published:.2} at {needed:.1} dead units; the \
                     most any seed had is {max_dead}{}.",
                    if needed <= max_dead as f64 {
                        ", so a seed with that many dead units would explain it"
                    } else {
                        ", so the published number lies beyond what our seeds' dead units \
                         explain"
                    }
                )
            }
            Some(_) => " More dead units do not go with a higher BCE here.".into(),
            None => String::new(),
        };
        format!(
            "The reference's published BCE, {published:.2}, lies {place}; our worst seed \
             reached {max_bce:.2}.{reach}"
        )
    }

    /// Draws the scatter plot of BCE against dead units into `out`.
    ///
    /// # Errors
    /// If drawing or writing fails.
    pub fn plot(&self, published: Option<f64>, out: &Path) -> Result<()> {
        let points: Vec<(f64, f64)> = self.seeds.iter().map(|s| (s.2 as f64, s.1)).collect();
        let path = out.join(DEAD_UNITS_PNG);
        xy_plot(
            &XyPlot {
                title: &format!(
                    "shallow: test BCE against dead code units ({} seeds)",
                    points.len()
                ),
                x_label: "dead code units (0 on every test image)",
                y_label: "test BCE",
                points: &points,
                reference: published.map(|p| (p, "reference's published BCE")),
            },
            &path,
        )
        .with_context(|| format!("writing {}", path.display()))
    }
}

/// The least-squares line `y = a + b x` as `(a, b)`; `None` when `x` is constant or the
/// slices are shorter than two or of different lengths.
pub fn least_squares(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_eval::tasks::DeadUnits;

    #[test]
    fn least_squares_hand_computed() {
        // x 0, 1, 2, 3; y 1, 3, 5, 8: means 1.5 and 4.25; sxx = 5; sxy = (-1.5)(-3.25) +
        // (-0.5)(-1.25) + (0.5)(0.75) + (1.5)(3.75) = 4.875 + 0.625 + 0.375 + 5.625 = 11.5;
        // b = 2.3, a = 4.25 - 3.45 = 0.8.
        let (a, b) = least_squares(&[0.0, 1.0, 2.0, 3.0], &[1.0, 3.0, 5.0, 8.0]).unwrap();
        assert!(
            (a - 0.8).abs() < 1e-12 && (b - 2.3).abs() < 1e-12,
            "{a} {b}"
        );
        assert_eq!(least_squares(&[1.0, 1.0], &[2.0, 3.0]), None);
        assert_eq!(least_squares(&[1.0], &[2.0]), None);
    }

    #[test]
    fn the_study_groups_the_seeds_by_dead_units_and_places_the_published_bce() {
        let mut results = crate::tests::with_bce(&[
            ("shallow", &[100.0, 104.0, 101.0, 110.0]),
            ("vanilla", &[64.0, 64.0, 64.0, 64.0]),
        ]);
        for (seed, dead) in results.seeds.iter_mut().zip([0, 1, 0, 3]) {
            seed.variants[0].dead_units = Some(DeadUnits {
                latent_dim: 20,
                dead,
                zero_fraction: vec![0.0; 20],
            });
        }
        let study = DeadUnitStudy::of(&results).unwrap();
        assert_eq!(
            study.by_dead_count(),
            [(0, 100.5, 2), (1, 104.0, 1), (3, 110.0, 1)]
        );
        // x 0, 1, 0, 3 (mean 1), y 100, 104, 101, 110 (mean 103.75): sxx = 1 + 0 + 1 + 4 = 6,
        // sxy = (-1)(-3.75) + 0 + (-1)(-2.75) + 2 (6.25) = 19; b = 19/6, a = 103.75 - 19/6.
        let (a, b) = study.fit.unwrap();
        assert!((b - 19.0 / 6.0).abs() < 1e-12 && (a - (103.75 - 19.0 / 6.0)).abs() < 1e-12);
        // Ranks of x: 1.5, 3, 1.5, 4; of y: 1, 3, 2, 4: Pearson of the ranks = 0.9487 (Python:
        // scipy.stats.spearmanr([0,1,0,3],[100,104,101,110]) -> 0.9486832980505138).
        assert!((study.spearman.unwrap() - 0.9486833).abs() < 1e-6);
        let text = study.section(Some(123.2));
        // 123.2 = a + b k -> k = (123.2 - 100.5833) / 3.1667 = 7.14: beyond the 3 seen.
        assert!(text.contains("reaches 123.20 at 7.1 dead units; the most any seed had is 3, so the published number lies beyond"), "{text}");
        assert!(text.contains("| 0 | 2 | 100.50 |"), "{text}");
        assert!(text.contains("above our 95% prediction interval"), "{text}");
        // Fewer than three seeds with a count: no study.
        results.seeds[0].variants[0].dead_units = None;
        results.seeds[1].variants[0].dead_units = None;
        assert!(DeadUnitStudy::of(&results).is_none());
    }
}
