//! The study's report, made from its results alone: the [`tables`] (with
//! [`quality_tables`] and the [`dead_units`] study), the [`figures`], the reference's
//! [`findings`] checked over the seeds, the agreement between held-out classes and probe
//! protocols ([`agreement`]), the measured [`differences`] from the published numbers
//! ([`reference`](mod@reference)), `results.json` ([`results_json`]) and `report.md` ([`report`]).
//!
//! It reads [`ae_results`]' types and draws with [`ae_eval::render`]; it knows nothing of
//! plans, stores or executors. The runner loads a study's stored results into a
//! [`StudyResults`] and calls [`write_outputs`]. Tables are named by [`table_name::TableName`]
//! and per-seed numbers by [`ae_results::metrics::Metric`], so no table name or path into a
//! result is spelled twice.

pub mod agreement;
pub mod dead_units;
pub mod differences;
pub mod field;
pub mod figures;
pub mod findings;
pub mod metadata;
pub mod quality_tables;
pub mod reference;
pub mod report;
pub mod results_json;
pub mod table_name;
pub mod tables;

use std::path::Path;

use ae_results::study_results::StudyResults;
use anyhow::Result;
use serde::Serialize;

use crate::metadata::RunMetadata;

/// Writes everything the study reports into `out`: the tables, figures, `results.json` (with
/// `experiment`, the experiment file as resolved) and `report.md`, all from `results`.
/// `experiment_file` is the path the report's command line shows.
///
/// # Errors
/// If a file cannot be written or a figure cannot be drawn.
pub fn write_outputs<E: Serialize>(
    results: &StudyResults,
    experiment: &E,
    metadata: &RunMetadata,
    experiment_file: &Path,
    out: &Path,
) -> Result<()> {
    let tables = tables::metric_tables(results);
    for table in &tables {
        table.write(out)?;
    }
    let comparison = tables::comparison(results);
    comparison.write(out)?;
    let probe_ranking = tables::probe_ranking(results);
    probe_ranking.write(out)?;
    figures::draw_all(results, out)?;
    let findings = findings::check(results);
    results_json::write_results_json(results, experiment, metadata, &findings, out)?;
    report::write(
        &report::ReportInput {
            results,
            tables: &tables,
            comparison: &comparison,
            probe_ranking: &probe_ranking,
            findings: &findings,
            metadata,
            experiment_file: &experiment_file.display().to_string(),
        },
        out,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use ae_results::images::Reconstruction;
    use ae_results::pixels::Pixels;
    use ae_results::study::{
        AnomalySection, EvaluationSection, GeneralSection, ProbeSection, QualitySection, Study,
        TrainingSection,
    };
    use ae_results::study_results::{SeedResults, StudyResults, VariantResults};

    /// A study of seeds 1, 2, ... whose only results are the reconstruction BCEs
    /// `bce[variant][seed]`.
    pub(crate) fn with_bce(bce: &[(&str, &[f64])]) -> StudyResults {
        let n = bce[0].1.len();
        let variants: Vec<String> = bce.iter().map(|(n, _)| n.to_string()).collect();
        // The reference's settings, one epoch.
        let study = Study {
            name: String::new(),
            dataset: "mnist".into(),
            seeds: (1..=n as u64).collect(),
            samplers: variants
                .iter()
                .filter(|v| {
                    ae_models::variants::by_name(v).is_ok_and(|x| x.capabilities().can_sample)
                })
                .cloned()
                .collect(),
            families: variants
                .iter()
                .filter(|v| ae_models::variants::by_name(v).is_ok_and(|x| x.family.is_some()))
                .cloned()
                .collect(),
            training: TrainingSection {
                epochs: 1,
                batch_size: 256,
                learning_rate: 1e-3,
                train_subset: None,
                backend: None,
            },
            general: GeneralSection::reference(),
            anomaly: AnomalySection::reference(),
            evaluation: EvaluationSection::default(),
            probe: ProbeSection::default(),
            quality: QualitySection::default(),
        };
        let seeds = (0..n)
            .map(|s| SeedResults {
                seed: s as u64 + 1,
                variants: bce
                    .iter()
                    .map(|(name, values)| VariantResults {
                        variant: name.to_string(),
                        reconstruction: Some(Reconstruction {
                            mean_bce: values[s],
                            mean_bce_mean_latent: None,
                            originals: Pixels::from_unit(&[], 32),
                            reconstructions: Pixels::from_unit(&[], 32),
                        }),
                        ..VariantResults::default()
                    })
                    .collect(),
                random_encoder: None,
                supervised: None,
            })
            .collect();
        StudyResults {
            study,
            variants,
            seeds,
            jobs: Vec::new(),
            classifier: None,
        }
    }
}
