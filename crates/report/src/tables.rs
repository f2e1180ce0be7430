//! The study's tables, built from the cached results: one row per variant (plus baseline
//! rows where they belong), one column per metric, each value known per seed. A
//! [`MetricTable`] is written as a long CSV (per seed), a summary CSV (n, mean, sd, 95%
//! interval) and Markdown (mean ± half-width); CSVs have snake_case headers and an empty cell
//! for "not applicable / not available", Markdown says "n/a".

use std::path::Path;

use anyhow::{Context, Result};

use crate::agreement::{ranks, ProbeAccuracies};
use crate::table_name::TableName;
use ae_eval::stats::{summarize, Summary};
use ae_results::metrics::Metric;
use ae_results::study_results::{SeedResults, StudyResults, VariantResults};

/// One column of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// CSV header (snake_case).
    pub key: String,
    /// Markdown header.
    pub title: String,
    /// Decimals printed for numbers.
    pub decimals: usize,
}

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// A number, printed with the column's decimals.
    Number(f64),
    /// A number with its own decimals (overriding the column's).
    Fixed(f64, usize),
    /// Text, printed as is.
    Text(String),
    /// Not applicable or not computed: empty in CSV, "n/a" in Markdown.
    Missing,
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Cell::Missing, Cell::Number)
    }
}

/// One row: a label (variant or baseline name) and one cell per column.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Variant or baseline name.
    pub label: String,
    /// Cells, in column order.
    pub cells: Vec<Cell>,
}

/// A table of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Its name: `tables/<name>.csv` and `tables/<name>.md`.
    pub name: TableName,
    /// Heading in the report.
    pub title: String,
    /// One sentence under the heading.
    pub caption: String,
    /// Columns after the label column (which is called `variant`).
    pub columns: Vec<Column>,
    /// Rows.
    pub rows: Vec<Row>,
}

pub(crate) fn col(key: &str, title: &str, decimals: usize) -> Column {
    Column {
        key: key.into(),
        title: title.into(),
        decimals,
    }
}

impl Table {
    fn cell_text(&self, column: usize, cell: &Cell, missing: &str) -> String {
        match cell {
            Cell::Number(v) => format!("{v:.*}", self.columns[column].decimals),
            Cell::Fixed(v, decimals) => format!("{v:.decimals$}"),
            Cell::Text(t) => t.clone(),
            Cell::Missing => missing.into(),
        }
    }

    /// The table as CSV.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["variant".to_string()];
        header.extend(self.columns.iter().map(|c| c.key.clone()));
        w.write_record(&header)?;
        for row in &self.rows {
            let mut record = vec![row.label.clone()];
            record.extend(
                row.cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.cell_text(i, c, "")),
            );
            w.write_record(&record)?;
        }
        Ok(w.into_inner()?)
    }

    /// The table as Markdown (header, alignment row, rows; numbers right-aligned).
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("| variant |");
        for c in &self.columns {
            out.push_str(&format!(" {} |", c.title));
        }
        out.push_str("\n|---|");
        for _ in &self.columns {
            out.push_str("---:|");
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&format!("| {} |", row.label));
            for (i, c) in row.cells.iter().enumerate() {
                out.push_str(&format!(" {} |", self.cell_text(i, c, "n/a")));
            }
            out.push('\n');
        }
        out
    }

    /// Writes `tables/<name>.csv` and `tables/<name>.md` under `out`, atomically.
    pub fn write(&self, out: &Path) -> Result<()> {
        let dir = out.join("tables");
        for (ext, bytes) in [
            ("csv", self.to_csv()?),
            (
                "md",
                format!(
                    "## {}\n\n{}\n\n{}",
                    self.title,
                    self.caption,
                    self.to_markdown()
                )
                .into_bytes(),
            ),
        ] {
            let path = dir.join(format!("{}.{ext}", self.name));
            ae_data::fs::write_atomic(&path, &bytes)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

/// One row of a [`MetricTable`]: a variant (or baseline) and, per metric, its value in each
/// seed (`None` where the seed has no result or the metric does not apply).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    /// Variant or baseline name.
    pub label: String,
    /// `values[metric][seed]`, seeds in the study's order.
    pub values: Vec<Vec<Option<f64>>>,
}

impl MetricRow {
    /// The values of metric `m` in the seeds that have one.
    pub fn present(&self, m: usize) -> Vec<f64> {
        self.values[m].iter().flatten().copied().collect()
    }

    /// Mean, sd and 95% interval of metric `m` over the seeds that have a value.
    pub fn summary(&self, m: usize) -> Option<Summary> {
        summarize(&self.present(m))
    }
}

/// A table of per-seed values and their summaries over the seeds. Written three ways:
/// `tables/<name>.csv`, the long form (one row per variant and seed, one column per metric);
/// `tables/<name>_summary.csv` (one row per variant and metric: n, mean, sample sd, 95%
/// Student-t interval); and `tables/<name>.md`, mean ± half-width per cell, as the report
/// shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricTable {
    /// Its name, the file stem.
    pub name: TableName,
    /// Heading in the report.
    pub title: String,
    /// One paragraph under the heading.
    pub caption: String,
    /// The seeds, in the order of every row's values.
    pub seeds: Vec<u64>,
    /// The metrics: CSV name, Markdown header and decimals of each.
    pub metrics: Vec<Column>,
    /// The rows.
    pub rows: Vec<MetricRow>,
}

impl MetricTable {
    /// The long form: one row per variant and seed.
    pub fn long(&self) -> Table {
        let mut columns = vec![col("seed", "seed", 0)];
        columns.extend(
            self.metrics
                .iter()
                .map(|m| col(&m.key, &m.title, m.decimals)),
        );
        let mut rows = Vec::new();
        for row in &self.rows {
            for (s, &seed) in self.seeds.iter().enumerate() {
                let mut cells = vec![Cell::Number(seed as f64)];
                cells.extend(row.values.iter().map(|v| Cell::from(v[s])));
                rows.push(Row {
                    label: row.label.clone(),
                    cells,
                });
            }
        }
        Table {
            name: self.name,
            title: self.title.clone(),
            caption: self.caption.clone(),
            columns,
            rows,
        }
    }

    /// The summary form: one row per variant and metric.
    pub fn summary(&self) -> Table {
        let mut rows = Vec::new();
        for row in &self.rows {
            for (m, metric) in self.metrics.iter().enumerate() {
                let s = row.summary(m);
                let d = metric.decimals + 2;
                let number = |x: Option<f64>| x.map_or(Cell::Missing, |x| Cell::Fixed(x, d));
                rows.push(Row {
                    label: row.label.clone(),
                    cells: vec![
                        Cell::Text(metric.key.clone()),
                        Cell::Fixed(s.map_or(0.0, |s| s.n as f64), 0),
                        number(s.map(|s| s.mean)),
                        number(s.and_then(|s| s.sd)),
                        number(s.and_then(|s| s.ci_low)),
                        number(s.and_then(|s| s.ci_high)),
                    ],
                });
            }
        }
        Table {
            name: self.name,
            title: self.title.clone(),
            caption: self.caption.clone(),
            columns: vec![
                col("metric", "metric", 0),
                col("n", "n", 0),
                col("mean", "mean", 0),
                col("sd", "sd", 0),
                col("ci_low", "95% CI low", 0),
                col("ci_high", "95% CI high", 0),
            ],
            rows,
        }
    }

    /// The display form: mean ± 95% half-width per cell (the mean alone for one seed).
    pub fn display(&self) -> Table {
        let rows = self
            .rows
            .iter()
            .map(|row| Row {
                label: row.label.clone(),
                cells: (0..self.metrics.len())
                    .map(|m| {
                        row.summary(m).map_or(Cell::Missing, |s| {
                            Cell::Text(mean_pm(&s, self.metrics[m].decimals))
                        })
                    })
                    .collect(),
            })
            .collect();
        Table {
            name: self.name,
            title: self.title.clone(),
            caption: self.caption.clone(),
            columns: self.metrics.clone(),
            rows,
        }
    }

    /// Writes the long CSV, the summary CSV and the Markdown, atomically.
    pub fn write(&self, out: &Path) -> Result<()> {
        let dir = out.join("tables");
        let markdown = format!(
            "## {}\n\n{}\n\n{}",
            self.title,
            self.caption,
            self.display().to_markdown()
        );
        for (file, bytes) in [
            (format!("{}.csv", self.name), self.long().to_csv()?),
            (
                format!("{}_summary.csv", self.name),
                self.summary().to_csv()?,
            ),
            (format!("{}.md", self.name), markdown.into_bytes()),
        ] {
            let path = dir.join(file);
            ae_data::fs::write_atomic(&path, &bytes)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

/// `mean ± half-width` with `decimals` (the mean alone where there is no interval).
pub fn mean_pm(s: &Summary, decimals: usize) -> String {
    match s.half_width() {
        Some(h) => format!("{:.decimals$} ± {h:.decimals$}", s.mean),
        None => format!("{:.decimals$}", s.mean),
    }
}

/// Rows of one value per metric per variant.
pub(crate) fn variant_rows(
    results: &StudyResults,
    metrics: usize,
    values: impl Fn(&VariantResults) -> Vec<Option<f64>>,
) -> Vec<MetricRow> {
    let seeds: Vec<&SeedResults> = results.seeds.iter().collect();
    variant_rows_of(results, &seeds, metrics, values)
}

/// [`variant_rows`] over some of the seeds only.
fn variant_rows_of(
    results: &StudyResults,
    seeds: &[&SeedResults],
    metrics: usize,
    values: impl Fn(&VariantResults) -> Vec<Option<f64>>,
) -> Vec<MetricRow> {
    results
        .variants
        .iter()
        .map(|name| {
            let mut row = MetricRow {
                label: name.clone(),
                values: vec![Vec::new(); metrics],
            };
            for seed in seeds {
                let v = seed.variant(name).map(&values);
                for (m, column) in row.values.iter_mut().enumerate() {
                    column.push(v.as_ref().and_then(|v| v[m]));
                }
            }
            row
        })
        .collect()
}

/// A row of a baseline (one value per metric per seed).
fn baseline_row(
    results: &StudyResults,
    label: &str,
    metrics: usize,
    values: impl Fn(&SeedResults) -> Vec<Option<f64>>,
) -> MetricRow {
    let mut row = MetricRow {
        label: label.into(),
        values: vec![Vec::new(); metrics],
    };
    for seed in &results.seeds {
        let v = values(seed);
        for (m, column) in row.values.iter_mut().enumerate() {
            column.push(v[m]);
        }
    }
    row
}

pub(crate) fn seeds_note(results: &StudyResults) -> String {
    let seeds: Vec<u64> = results.seeds.iter().map(|s| s.seed).collect();
    seeds_note_for(&seeds)
}

/// "One seed (42)." or "Mean ± half-width ... over n seeds (42, 43)."
fn seeds_note_for(seeds: &[u64]) -> String {
    let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
    match seeds.len() {
        1 => format!("One seed ({}).", list[0]),
        n => format!(
            "Mean ± half-width of the 95% confidence interval (Student t) over {n} seeds ({}).",
            list.join(", ")
        ),
    }
}

/// Task 1: mean test BCE of the general models.
pub fn reconstruction(results: &StudyResults) -> MetricTable {
    MetricTable {
        name: TableName::Reconstruction,
        title: "Reconstruction".into(),
        caption: format!(
            "Mean test BCE (summed over pixels, averaged over images; lower is better) of the \
             latent-{} models. `test_bce` forms the latent as the reference does (sampled for \
             the VAE family); `test_bce_mean_latent` uses the mean instead. {}",
            results.study.general.latent_dim,
            seeds_note(results)
        ),
        seeds: results.seeds.iter().map(|s| s.seed).collect(),
        metrics: vec![
            col("test_bce", "test BCE", 2),
            col("test_bce_mean_latent", "test BCE (mean latent)", 2),
        ],
        rows: variant_rows(results, 2, |v| {
            vec![Metric::TestBce.of(v), Metric::TestBceMeanLatent.of(v)]
        }),
    }
}

/// Task 6: linear-probe test accuracy under the reference protocol and converged, with the
/// two baseline rows.
pub fn probe(results: &StudyResults) -> MetricTable {
    const METRICS: usize = 6;
    let mut rows = variant_rows(results, METRICS, |v| {
        let p = v.probe.as_ref();
        vec![
            Metric::ReferenceProbe.of(v),
            p.and_then(|p| p.mean_latent.as_ref().map(|m| m.test_accuracy)),
            p.map(|p| p.sampled.best_epoch as f64),
            Metric::ConvergedProbe.of(v),
            p.and_then(|p| p.converged_mean_latent.as_ref().map(|m| m.test_accuracy)),
            p.map(|p| p.converged.l2.log10()),
        ]
    });
    rows.push(baseline_row(results, "random_encoder", METRICS, |s| {
        let r = s.random_encoder.as_ref();
        vec![
            Metric::ReferenceProbe.of_random_encoder(s),
            None,
            r.map(|r| r.reference.best_epoch as f64),
            Metric::ConvergedProbe.of_random_encoder(s),
            None,
            r.map(|r| r.converged.l2.log10()),
        ]
    }));
    rows.push(baseline_row(results, "supervised", METRICS, |s| {
        let o = s.supervised.as_ref();
        vec![
            o.map(|o| o.test_accuracy),
            None,
            o.map(|o| o.best_epoch as f64),
            None,
            None,
            None,
        ]
    }));
    MetricTable {
        name: TableName::Probe,
        title: "Linear probe".into(),
        caption: format!(
            "Test accuracy of a linear classifier on the frozen latent-{} codes, trained on \
             550 labelled images (higher is better). Reference protocol (`accuracy`): Adam, \
             batch 32, at most {} epochs, early stopping with patience {}. Converged \
             (`converged_accuracy`): features standardised with the 550 images' mean and sd, \
             multinomial logistic regression trained to convergence (L-BFGS), the L2 strength \
             chosen on the validation images from {} values (`converged_log10_l2`: the chosen \
             one). `random_encoder` is the reference's \"trained from scratch\" row (a random \
             encoder whose BatchNorm runs in training mode while only the linear layer \
             learns); `supervised` trains encoder and linear layer end to end. {}",
            results.study.general.latent_dim,
            results.study.probe.max_epochs,
            results.study.probe.patience,
            results.study.probe.l2_grid.len(),
            seeds_note(results)
        ),
        seeds: results.seeds.iter().map(|s| s.seed).collect(),
        metrics: vec![
            col("accuracy", "reference protocol", 4),
            col("accuracy_mean_latent", "reference, mean latent", 4),
            col("best_epoch", "best epoch", 0),
            col("converged_accuracy", "converged", 4),
            col(
                "converged_accuracy_mean_latent",
                "converged, mean latent",
                4,
            ),
            col("converged_log10_l2", "log10 L2", 1),
        ],
        rows,
    }
}

/// How much of the reference's probe ranking survives: the variants ranked by the published
/// accuracy, by ours under the reference protocol and by the converged probe (means over the
/// seeds; 1 = best).
pub fn probe_ranking(results: &StudyResults) -> Table {
    let acc = ProbeAccuracies::of(results);
    let (published, ours, converged) = (
        ranks(&acc.published),
        ranks(&acc.reference_protocol),
        ranks(&acc.converged),
    );
    let number = |x: Option<usize>| x.map_or(Cell::Missing, |x| Cell::Fixed(x as f64, 0));
    Table {
        name: TableName::ProbeRanking,
        title: "Probe ranking under each protocol".into(),
        caption: "Rank of each variant by probe accuracy (1 = best): the reference's published \
                  number, ours under the reference protocol and ours converged (means over the \
                  seeds). `rank_change` is the converged rank minus the published one."
            .into(),
        columns: vec![
            col("published_rank", "published", 0),
            col("reference_protocol_rank", "ours, reference protocol", 0),
            col("converged_rank", "ours, converged", 0),
            col("rank_change", "change", 0),
            col(
                "reference_protocol_accuracy",
                "accuracy, reference protocol",
                4,
            ),
            col("converged_accuracy", "accuracy, converged", 4),
        ],
        rows: acc
            .variants
            .iter()
            .enumerate()
            .map(|(i, variant)| Row {
                label: variant.clone(),
                cells: vec![
                    number(published[i]),
                    number(ours[i]),
                    number(converged[i]),
                    match (published[i], converged[i]) {
                        (Some(p), Some(c)) => Cell::Text(format!("{:+}", c as i64 - p as i64)),
                        _ => Cell::Missing,
                    },
                    acc.reference_protocol[i].into(),
                    acc.converged[i].into(),
                ],
            })
            .collect(),
    }
}

/// Task 5: anomaly AUC of the anomaly models for the primary held-out digit.
pub fn anomaly(results: &StudyResults) -> MetricTable {
    let a = &results.study.anomaly;
    let digit = a.primary_digit();
    MetricTable {
        name: TableName::Anomaly,
        title: "Anomaly detection".into(),
        caption: format!(
            "Area under the ROC curve for detecting class {digit} (left out of training) with \
             the latent-{} models (higher is better). `auc` scores each test image by its \
             reconstruction BCE (the reference's code since its commit b1f2d22, \"Fix anomaly \
             detection bug\"); `published_auc` by the signed sum of (reconstruction - input) \
             over the pixels, the score before that fix, which produced the reference's \
             published AUCs. {}",
            a.latent_dim,
            seeds_note(results)
        ),
        seeds: results.seeds.iter().map(|s| s.seed).collect(),
        metrics: vec![
            col("auc", "AUC (BCE score)", 4),
            col("published_auc", "AUC (published score)", 4),
        ],
        rows: variant_rows(results, 2, |v| {
            vec![Metric::Auc(digit).of(v), Metric::PublishedAuc(digit).of(v)]
        }),
    }
}

/// Task 5 for every held-out class: AUC per variant and held-out digit, and the row mean, over
/// the seeds that hold out every digit.
pub fn leave_one_class_out(results: &StudyResults) -> MetricTable {
    let anomaly = &results.study.anomaly;
    let digits = anomaly.digits.clone();
    let seeds: Vec<&SeedResults> = results
        .seeds
        .iter()
        .filter(|s| anomaly.holds_out_every_digit(s.seed))
        .collect();
    let seeds_note = seeds_note_for(&seeds.iter().map(|s| s.seed).collect::<Vec<_>>());
    let mut metrics: Vec<Column> = digits
        .iter()
        .map(|d| col(&format!("auc_digit{d}"), &format!("{d}"), 3))
        .collect();
    metrics.push(col("mean_auc", "mean", 3));
    let n = metrics.len();
    MetricTable {
        name: TableName::LeaveOneClassOut,
        title: "Anomaly detection, every held-out class".into(),
        caption: format!(
            "AUC of the per-image test BCE when class d is left out of training and scored as \
             the anomaly, one latent-{} model per variant and held-out class; `mean` is the \
             mean over the held-out classes within a seed. {}",
            anomaly.latent_dim, seeds_note
        ),
        seeds: seeds.iter().map(|s| s.seed).collect(),
        metrics,
        rows: variant_rows_of(results, &seeds, n, |v| {
            let mut aucs: Vec<Option<f64>> = digits.iter().map(|&d| Metric::Auc(d).of(v)).collect();
            let present: Vec<f64> = aucs.iter().flatten().copied().collect();
            let mean = (present.len() == digits.len())
                .then(|| present.iter().sum::<f64>() / present.len() as f64);
            aucs.push(mean);
            aucs
        }),
    }
}

/// Task 4: k-means clustering of the latent codes against the classes.
pub fn clustering(results: &StudyResults) -> MetricTable {
    let e = &results.study;
    MetricTable {
        name: TableName::Clustering,
        title: "Latent clustering".into(),
        caption: format!(
            "K-means (k = 10) on the test set's latent codes: Hungarian-matched accuracy and \
             normalised mutual information, for the general (latent {}) and anomaly (latent {}) \
             models (higher is better). {}",
            e.general.latent_dim,
            e.anomaly.latent_dim,
            seeds_note(results)
        ),
        seeds: results.seeds.iter().map(|s| s.seed).collect(),
        metrics: vec![
            col("general_accuracy", "general accuracy", 4),
            col("general_nmi", "general NMI", 4),
            col("anomaly_accuracy", "anomaly accuracy", 4),
            col("anomaly_nmi", "anomaly NMI", 4),
        ],
        rows: variant_rows(results, 4, |v| {
            let (g, a) = (
                v.latent_general.as_ref().map(|l| l.clustering),
                v.latent_anomaly.as_ref().map(|l| l.clustering),
            );
            vec![
                Metric::ClusteringAccuracy.of(v),
                g.map(|c| c.nmi),
                a.map(|c| c.accuracy),
                a.map(|c| c.nmi),
            ]
        }),
    }
}

/// Training time of every run, from its `record.json`.
pub fn training_time(results: &StudyResults) -> MetricTable {
    MetricTable {
        name: TableName::TrainingTime,
        title: "Training time".into(),
        caption: format!(
            "Wall time and throughput of each training run on this machine ({} epochs). {}",
            results.study.training.epochs,
            seeds_note(results)
        ),
        seeds: results.seeds.iter().map(|s| s.seed).collect(),
        metrics: vec![
            col("general_seconds", "general (s)", 1),
            col("general_samples_per_second", "general (samples/s)", 0),
            col("anomaly_seconds", "anomaly (s)", 1),
            col("anomaly_samples_per_second", "anomaly (samples/s)", 0),
        ],
        rows: variant_rows(results, 4, |v| {
            let (g, a) = (v.train_general.as_ref(), v.train_anomaly.as_ref());
            vec![
                g.map(|t| t.train_seconds),
                g.map(|t| t.samples_per_second),
                a.map(|t| t.train_seconds),
                a.map(|t| t.samples_per_second),
            ]
        }),
    }
}

/// One comparison with a published number: our summary over the seeds beside it, our 95%
/// prediction interval for one new seed, and how far outside it the published number lies
/// (0 inside; empty with one seed, which has no interval).
fn compared(ours: &[f64], reference: f64, decimals: usize) -> Vec<Cell> {
    let s = summarize(ours);
    let interval = s.and_then(|s| s.prediction_interval());
    vec![
        s.map_or(Cell::Missing, |s| Cell::Text(mean_pm(&s, decimals))),
        Cell::Fixed(reference, decimals),
        s.map_or(Cell::Missing, |s| Cell::Fixed(s.mean - reference, decimals)),
        interval.map_or(Cell::Missing, |(lo, hi)| {
            Cell::Text(format!("[{lo:.decimals$}, {hi:.decimals$}]"))
        }),
        interval.map_or(Cell::Missing, |(lo, hi)| {
            Cell::Fixed(outside_by(reference, lo, hi), decimals)
        }),
    ]
}

/// How far `x` lies outside `[lo, hi]`: negative below, positive above, 0 inside.
pub fn outside_by(x: f64, lo: f64, hi: f64) -> f64 {
    if x < lo {
        x - lo
    } else if x > hi {
        x - hi
    } else {
        0.0
    }
}

/// Ours against the reference's published numbers for the study's dataset (empty cells where
/// it published none): our mean and 95% interval over the seeds, our 95% prediction interval
/// for one new seed, and how far outside it the published number lies.
pub fn comparison(results: &StudyResults) -> Table {
    let study = crate::reference::study(&results.study.dataset);
    let mut columns = Vec::new();
    for (key, title, decimals) in [
        ("bce", "BCE", 2),
        ("probe_accuracy", "probe", 4),
        ("published_auc", "AUC, published score", 3),
    ] {
        columns.extend([
            col(key, &format!("{title} (ours)"), decimals),
            col(
                &format!("{key}_reference"),
                &format!("{title} (reference)"),
                decimals,
            ),
            col(
                &format!("{key}_difference"),
                &format!("{title} diff"),
                decimals,
            ),
            col(&format!("{key}_prediction_interval"), "95% PI, one seed", 0),
            col(
                &format!("{key}_outside_by"),
                "published outside PI by",
                decimals,
            ),
        ]);
    }
    let mut rows: Vec<Row> = results
        .variants
        .iter()
        .map(|name| {
            let Some(r) = study.and_then(|s| s.row(name)) else {
                return Row {
                    label: name.clone(),
                    cells: vec![Cell::Missing; columns.len()],
                };
            };
            let bce = results.values(name, Metric::TestBce);
            let acc = results.values(name, Metric::ReferenceProbe);
            let digit = results.study.anomaly.primary_digit();
            let auc = results.values(name, Metric::PublishedAuc(digit));
            let mut cells = compared(&bce, r.reconstruction_bce, 2);
            cells.extend(compared(&acc, r.probe_accuracy, 4));
            // The published AUCs hold out digit 1.
            if digit == ae_results::study::REFERENCE_ANOMALOUS_DIGIT {
                cells.extend(compared(&auc, r.anomaly_auc_old_score, 3));
            } else {
                cells.extend(vec![Cell::Missing; 5]);
            }
            Row {
                label: name.clone(),
                cells,
            }
        })
        .collect();
    let acc = results.random_encoder_values(Metric::ReferenceProbe);
    let mut cells = vec![Cell::Missing; 5];
    match study.and_then(|s| s.random_encoder_accuracy) {
        Some(published) => cells.extend(compared(&acc, published, 4)),
        None => cells.extend(vec![Cell::Missing; 5]),
    }
    cells.extend(vec![Cell::Missing; 5]);
    rows.push(Row {
        label: "random_encoder".into(),
        cells,
    });
    let source = match study {
        Some(s) => format!(" Published numbers: {}.", s.source),
        None => format!(
            " The reference published no numbers for `{}`.",
            results.study.dataset
        ),
    };
    Table {
        name: TableName::Comparison,
        title: "Ours against the reference".into(),
        caption: format!(
            "Our numbers (reference protocols: the early-stopped probe on sampled codes, the \
             pre-fix anomaly score) beside the reference's published numbers (one seed). \
             Differences are our mean minus the reference. \"95% PI, one seed\" is our 95% \
             prediction interval for one new seed, mean ± t(0.975, n-1) · sd · sqrt(1 + 1/n): \
             where a single run of our study would land 95% of the time, the yardstick for the \
             reference's single run (the range of five seeds misses a new draw a third of the \
             time). \"outside PI by\" is how far the published number lies beyond it (0: \
             inside; needs two seeds). {}{source}",
            seeds_note(results)
        ),
        columns,
        rows,
    }
}

/// The tables of per-seed metrics, in report order.
pub fn metric_tables(results: &StudyResults) -> Vec<MetricTable> {
    vec![
        reconstruction(results),
        probe(results),
        anomaly(results),
        leave_one_class_out(results),
        clustering(results),
        training_time(results),
    ]
    .into_iter()
    .chain(crate::quality_tables::tables(results))
    .chain([crate::dead_units::table(results)])
    .collect()
}

/// The CSV files (stems under `tables/`) whose contents depend only on the computation, not
/// on timing: the ones two runs with the same seeds must reproduce byte for byte. Every
/// per-seed table but `training_time`, with its summary, and the two derived tables.
pub fn deterministic_table_names() -> Vec<String> {
    let mut names = Vec::new();
    for table in TableName::DETERMINISTIC_PER_SEED {
        names.push(table.to_string());
        names.push(format!("{table}_summary"));
    }
    names.extend([TableName::Comparison, TableName::ProbeRanking].map(|t| t.to_string()));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_number_is_placed_against_the_prediction_interval_of_one_new_seed() {
        // Seeds 1..5: mean 3, sd sqrt(2.5); the prediction interval is 3 ± t(0.975, 4) ·
        // sqrt(2.5) · sqrt(1.2) = 3 ± 4.808944 = [-1.81, 7.81] (Python:
        // 2.7764451051977934 * math.sqrt(3)). 7.5 lies inside it (though outside the seeds'
        // range), 9 lies 1.191056 above it, -2 lies 0.191056 below.
        let ours = [1.0, 2.0, 3.0, 4.0, 5.0];
        let inside = compared(&ours, 7.5, 2);
        assert_eq!(inside[2], Cell::Fixed(-4.5, 2));
        assert_eq!(inside[3], Cell::Text("[-1.81, 7.81]".into()));
        assert_eq!(inside[4], Cell::Fixed(0.0, 2));
        let Cell::Fixed(above, _) = compared(&ours, 9.0, 2)[4] else {
            panic!("a number")
        };
        assert!((above - 1.191056).abs() < 1e-6, "{above}");
        let Cell::Fixed(below, _) = compared(&ours, -2.0, 2)[4] else {
            panic!("a number")
        };
        assert!((below + 0.191056).abs() < 1e-6, "{below}");
        // One seed: a difference, but no interval.
        let one = compared(&[1.0], 1.0, 2);
        assert_eq!(one[2], Cell::Fixed(0.0, 2));
        assert_eq!((&one[3], &one[4]), (&Cell::Missing, &Cell::Missing));
    }

    fn table() -> Table {
        Table {
            name: TableName::Reconstruction,
            title: "T".into(),
            caption: String::new(),
            columns: vec![col("a_b", "A B", 2), col("c", "C", 0)],
            rows: vec![
                Row {
                    label: "vae".into(),
                    cells: vec![Cell::Number(1.234), Cell::Missing],
                },
                Row {
                    label: "vq".into(),
                    cells: vec![Cell::Missing, Cell::Text("yes".into())],
                },
            ],
        }
    }

    #[test]
    fn csv_has_snake_case_headers_and_empty_missing_cells() {
        let csv = String::from_utf8(table().to_csv().unwrap()).unwrap();
        assert_eq!(csv, "variant,a_b,c\nvae,1.23,\nvq,,yes\n");
    }

    fn metric_table() -> MetricTable {
        MetricTable {
            name: TableName::Probe,
            title: "M".into(),
            caption: String::new(),
            seeds: vec![42, 43],
            metrics: vec![col("bce", "BCE", 1)],
            rows: vec![
                MetricRow {
                    label: "vae".into(),
                    values: vec![vec![Some(1.0), Some(3.0)]],
                },
                MetricRow {
                    label: "vq".into(),
                    values: vec![vec![Some(2.0), None]],
                },
            ],
        }
    }

    #[test]
    fn metric_tables_have_long_summary_and_display_forms() {
        let t = metric_table();
        let long = String::from_utf8(t.long().to_csv().unwrap()).unwrap();
        assert_eq!(
            long,
            "variant,seed,bce\nvae,42,1.0\nvae,43,3.0\nvq,42,2.0\nvq,43,\n"
        );
        // vae: mean 2, sd sqrt(2) = 1.414214, half-width t(0.975, 1) * sd / sqrt(2) =
        // 12.706205 * 1 = 12.706205: [-10.706205, 14.706205] (three decimals: 1 + 2).
        let summary = String::from_utf8(t.summary().to_csv().unwrap()).unwrap();
        assert_eq!(
            summary,
            "variant,metric,n,mean,sd,ci_low,ci_high\n\
             vae,bce,2,2.000,1.414,-10.706,14.706\n\
             vq,bce,1,2.000,,,\n"
        );
        let md = t.display().to_markdown();
        assert!(md.contains("| vae | 2.0 ± 12.7 |"), "{md}");
        assert!(md.contains("| vq | 2.0 |"), "{md}");
    }

    #[test]
    fn markdown_marks_missing_cells() {
        let md = table().to_markdown();
        assert_eq!(
            md,
            "| variant | A B | C |\n|---|---:|---:|\n| vae | 1.23 | n/a |\n| vq | n/a | yes |\n"
        );
    }
}
