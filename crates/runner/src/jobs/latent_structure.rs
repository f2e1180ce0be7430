//! Task 4 jobs: test-set latent codes in the plane (UMAP or t-SNE above two dimensions) and
//! how well k-means clusters of the full codes match the classes.

use ae_data::LabelledImages;
use ae_eval::reduction::Reduction;
use ae_eval::tasks::LatentStructure;
use ae_models::Model;
use anyhow::{Context, Result};
use rand::RngCore;

/// Codes of every test image (sampled latent, as the reference), clustered in full and put in
/// the plane with `reduction`: UMAP on every code, t-SNE on at most `max_points` of them;
/// `seed` drives the reduction and k-means.
///
/// # Errors
/// The model or the reduction fails (e.g. a code is not finite).
pub fn run(
    model: &dyn Model,
    test: &LabelledImages,
    max_points: usize,
    reduction: Reduction,
    seed: u64,
    rng: &mut dyn RngCore,
) -> Result<LatentStructure> {
    ae_eval::tasks::latent_structure(model, test, max_points, reduction, seed, rng).with_context(
        || {
            format!(
                "the latent structure of the latent-{} test codes",
                model.latent_dim()
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_result_reads_back_as_the_eval_type_unchanged() {
        // The form the runner has always stored for a latent-2 model.
        let stored = serde_json::json!({
            "clustering": {"accuracy": 0.252, "nmi": 0.22350606469097825},
            "labels": [7, 2],
            "latent_dim": 2,
            "method": "latent (2-D, no reduction)",
            "points": [[0.5, -1.25], [3.0, 0.0]]
        });
        let result: LatentStructure = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(result.points, [[0.5, -1.25], [3.0, 0.0]]);
        assert_eq!(result.clustering.accuracy, 0.252);
        assert_eq!(serde_json::to_value(&result).unwrap(), stored);
    }
}
