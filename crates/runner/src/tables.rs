//! The study's tables, built from the cached results: one row per variant (plus baseline
//! rows where they belong), one column per metric. Each is written as CSV (snake_case
//! headers, empty cell for "not applicable / not available") and as Markdown ("n/a").

use std::path::Path;

use anyhow::{Context, Result};

use crate::reference::{
    reference, BCE_RELATIVE_TOLERANCE, PROBE_ABSOLUTE_TOLERANCE, RANDOM_ENCODER_ACCURACY,
    REFERENCE_DATASET,
};
use crate::results::{StudyResults, VariantResults};

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
    /// File stem: `tables/<name>.csv` and `tables/<name>.md`.
    pub name: &'static str,
    /// Heading in the report.
    pub title: String,
    /// One sentence under the heading.
    pub caption: String,
    /// Columns after the label column (which is called `variant`).
    pub columns: Vec<Column>,
    /// Rows.
    pub rows: Vec<Row>,
}

fn col(key: &str, title: &str, decimals: usize) -> Column {
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

fn variant_rows(results: &StudyResults, cells: impl Fn(&VariantResults) -> Vec<Cell>) -> Vec<Row> {
    results
        .variants
        .iter()
        .map(|v| Row {
            label: v.variant.clone(),
            cells: cells(v),
        })
        .collect()
}

/// Task 1: mean test BCE of the general models.
pub fn reconstruction(results: &StudyResults) -> Table {
    Table {
        name: "reconstruction",
        title: "Reconstruction".into(),
        caption: format!(
            "Mean test BCE (summed over pixels, averaged over images; lower is better) of the \
             latent-{} models. `test_bce` forms the latent as the reference does (sampled for \
             the VAE family); `test_bce_mean_latent` uses the mean instead.",
            results.experiment.general.latent_dim
        ),
        columns: vec![
            col("test_bce", "test BCE", 2),
            col("test_bce_mean_latent", "test BCE (mean latent)", 2),
        ],
        rows: variant_rows(results, |v| {
            let r = v.reconstruction.as_ref();
            vec![
                r.map(|r| r.mean_bce).into(),
                r.and_then(|r| r.mean_bce_mean_latent).into(),
            ]
        }),
    }
}

/// Task 6: linear-probe test accuracy, with the two baseline rows.
pub fn probe(results: &StudyResults) -> Table {
    let columns = vec![
        col("accuracy", "accuracy", 4),
        col("accuracy_mean_latent", "accuracy (mean latent)", 4),
        col("best_epoch", "best epoch", 0),
    ];
    let mut rows = variant_rows(results, |v| {
        let p = v.probe.as_ref();
        vec![
            p.map(|p| p.sampled.test_accuracy).into(),
            p.and_then(|p| p.mean_latent.as_ref().map(|m| m.test_accuracy))
                .into(),
            p.map(|p| p.sampled.best_epoch as f64).into(),
        ]
    });
    for (label, outcome) in [
        ("random_encoder", &results.random_encoder),
        ("supervised", &results.supervised),
    ] {
        rows.push(Row {
            label: label.into(),
            cells: vec![
                outcome.as_ref().map(|o| o.test_accuracy).into(),
                Cell::Missing,
                outcome.as_ref().map(|o| o.best_epoch as f64).into(),
            ],
        });
    }
    Table {
        name: "probe",
        title: "Linear probe".into(),
        caption: "Test accuracy of a linear classifier on the frozen latent-20 codes, trained on \
                  550 labelled images with early stopping (higher is better). `random_encoder` \
                  is the reference's \"trained from scratch\" row (a random encoder whose \
                  BatchNorm runs in training mode while only the linear layer learns); \
                  `supervised` trains encoder and linear layer end to end."
            .into(),
        columns,
        rows,
    }
}

/// Task 5: anomaly AUC of the anomaly models.
pub fn anomaly(results: &StudyResults) -> Table {
    let a = &results.experiment.anomaly;
    Table {
        name: "anomaly",
        title: "Anomaly detection".into(),
        caption: format!(
            "Area under the ROC curve of the per-image test BCE as a detector of digit {} \
             (left out of training) with the latent-{} models (higher is better).",
            a.digit, a.latent_dim
        ),
        columns: vec![col("auc", "AUC", 4)],
        rows: variant_rows(results, |v| vec![v.anomaly.as_ref().map(|a| a.auc).into()]),
    }
}

/// Task 4: k-means clustering of the latent codes against the classes.
pub fn clustering(results: &StudyResults) -> Table {
    let e = &results.experiment;
    Table {
        name: "clustering",
        title: "Latent clustering".into(),
        caption: format!(
            "K-means (k = 10) on the test set's latent codes: Hungarian-matched accuracy and \
             normalised mutual information, for the general (latent {}) and anomaly (latent {}) \
             models (higher is better).",
            e.general.latent_dim, e.anomaly.latent_dim
        ),
        columns: vec![
            col("general_accuracy", "general accuracy", 4),
            col("general_nmi", "general NMI", 4),
            col("anomaly_accuracy", "anomaly accuracy", 4),
            col("anomaly_nmi", "anomaly NMI", 4),
        ],
        rows: variant_rows(results, |v| {
            let (g, a) = (
                v.latent_general.as_ref().map(|l| l.clustering),
                v.latent_anomaly.as_ref().map(|l| l.clustering),
            );
            vec![
                g.map(|c| c.accuracy).into(),
                g.map(|c| c.nmi).into(),
                a.map(|c| c.accuracy).into(),
                a.map(|c| c.nmi).into(),
            ]
        }),
    }
}

/// Training time of every run, from its `record.json`.
pub fn training_time(results: &StudyResults) -> Table {
    Table {
        name: "training_time",
        title: "Training time".into(),
        caption: format!(
            "Wall time and throughput of each training run on this machine ({} epochs).",
            results.experiment.training.epochs
        ),
        columns: vec![
            col("general_seconds", "general (s)", 1),
            col("general_samples_per_second", "general (samples/s)", 0),
            col("anomaly_seconds", "anomaly (s)", 1),
            col("anomaly_samples_per_second", "anomaly (samples/s)", 0),
        ],
        rows: variant_rows(results, |v| {
            let (g, a) = (v.train_general.as_ref(), v.train_anomaly.as_ref());
            vec![
                g.map(|t| t.train_seconds).into(),
                g.map(|t| t.samples_per_second).into(),
                a.map(|t| t.train_seconds).into(),
                a.map(|t| t.samples_per_second).into(),
            ]
        }),
    }
}

fn verdict(ok: Option<bool>) -> Cell {
    match ok {
        Some(true) => Cell::Text("yes".into()),
        Some(false) => Cell::Text("no".into()),
        None => Cell::Missing,
    }
}

/// Ours against SPEC's reference numbers (MNIST only), with differences.
pub fn comparison(results: &StudyResults) -> Table {
    let columns = vec![
        col("bce", "BCE (ours)", 2),
        col("bce_reference", "BCE (reference)", 2),
        col("bce_difference", "BCE diff", 2),
        col("bce_relative_difference", "BCE rel. diff", 3),
        col("bce_within_10_percent", "within 10%", 0),
        col("probe_accuracy", "probe (ours)", 4),
        col("probe_accuracy_reference", "probe (reference)", 4),
        col("probe_accuracy_difference", "probe diff", 4),
        col("probe_within_0_06", "within 0.06", 0),
        col("auc", "AUC (ours)", 4),
        col("auc_reference_old_score", "AUC (reference, old score*)", 3),
    ];
    let mut rows = variant_rows(results, |v| {
        let Some(r) = reference(&v.variant) else {
            return vec![Cell::Missing; columns.len()];
        };
        let bce = v.reconstruction.as_ref().map(|x| x.mean_bce);
        let acc = v.probe.as_ref().map(|p| p.sampled.test_accuracy);
        let bce_diff = bce.map(|b| b - r.reconstruction_bce);
        let bce_rel = bce_diff.map(|d| d / r.reconstruction_bce);
        let acc_diff = acc.map(|a| a - r.probe_accuracy);
        vec![
            bce.into(),
            Cell::Number(r.reconstruction_bce),
            bce_diff.into(),
            bce_rel.into(),
            verdict(bce_rel.map(|x| x.abs() <= BCE_RELATIVE_TOLERANCE)),
            acc.into(),
            Cell::Number(r.probe_accuracy),
            acc_diff.into(),
            verdict(acc_diff.map(|x| x.abs() <= PROBE_ABSOLUTE_TOLERANCE)),
            v.anomaly.as_ref().map(|a| a.auc).into(),
            Cell::Number(r.anomaly_auc_old_score),
        ]
    });
    let acc = results.random_encoder.as_ref().map(|o| o.test_accuracy);
    let diff = acc.map(|a| a - RANDOM_ENCODER_ACCURACY);
    let mut cells = vec![Cell::Missing; 5];
    cells.extend([
        acc.into(),
        Cell::Number(RANDOM_ENCODER_ACCURACY),
        diff.into(),
        verdict(diff.map(|x| x.abs() <= PROBE_ABSOLUTE_TOLERANCE)),
        Cell::Missing,
        Cell::Missing,
    ]);
    rows.push(Row {
        label: "random_encoder".into(),
        cells,
    });
    let dataset_note = if results.experiment.dataset == REFERENCE_DATASET {
        String::new()
    } else {
        format!(
            " Note: the reference numbers are for MNIST; this study uses `{}`, so the \
             differences are not meaningful.",
            results.experiment.dataset
        )
    };
    Table {
        name: "comparison",
        title: "Ours against the reference".into(),
        caption: format!(
            "Our numbers beside SPEC's reference numbers (MNIST, one seed). Differences are \
             ours minus the reference; \"within\" marks the acceptance bands (BCE within 10%, \
             probe accuracy within 0.06). *The reference's published AUCs were computed with \
             an old signed-difference score before a fix and are not comparable with ours \
             (per-image BCE).{dataset_note}"
        ),
        columns,
        rows,
    }
}

/// Every table of the report, in report order.
pub fn all(results: &StudyResults) -> Vec<Table> {
    vec![
        reconstruction(results),
        probe(results),
        anomaly(results),
        clustering(results),
        comparison(results),
        training_time(results),
    ]
}

/// Tables whose contents depend only on the computation, not on timing: the ones two runs
/// with the same seed must reproduce byte for byte.
pub fn deterministic_table_names() -> [&'static str; 5] {
    [
        "reconstruction",
        "probe",
        "anomaly",
        "clustering",
        "comparison",
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            name: "t",
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

    #[test]
    fn markdown_marks_missing_cells() {
        let md = table().to_markdown();
        assert_eq!(
            md,
            "| variant | A B | C |\n|---|---:|---:|\n| vae | 1.23 | n/a |\n| vq | n/a | yes |\n"
        );
    }
}
