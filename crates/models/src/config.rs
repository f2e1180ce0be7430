//! How a run is trained ([`TrainingConfig`]) and how a greedy schedule's stages share its
//! epochs; read by the training loop and by both backends' schedules.

use serde::{Deserialize, Serialize};

/// How a run is trained (SPEC "Training": batch 256, 60 epochs, Adam 1e-3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingConfig {
    /// Total epochs (split over the stages of a greedy schedule).
    pub epochs: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 60,
            batch_size: 256,
            learning_rate: 1e-3,
        }
    }
}

/// Number of epochs of each stage: even split, remainder to the last (the reference's
/// `_get_epochs_per_layer`).
pub fn epochs_per_stage(epochs: usize, stages: usize) -> Vec<usize> {
    let mut per = vec![epochs / stages; stages];
    per[stages - 1] += epochs % stages;
    per
}

/// The 1-based stage epoch `epoch` (1-based) of `epochs` belongs to under
/// [`epochs_per_stage`]; epochs past the end belong to the last stage.
pub fn stage_of_epoch(epoch: usize, epochs: usize, stages: usize) -> usize {
    let mut end = 0;
    for (i, n) in epochs_per_stage(epochs, stages).into_iter().enumerate() {
        end += n;
        if epoch <= end {
            return i + 1;
        }
    }
    stages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_split_evenly_with_remainder_last() {
        assert_eq!(epochs_per_stage(60, 3), vec![20, 20, 20]);
        assert_eq!(epochs_per_stage(10, 3), vec![3, 3, 4]);
        assert_eq!(epochs_per_stage(5, 1), vec![5]);
    }

    #[test]
    fn epochs_map_to_their_stage() {
        // 10 epochs over 3 stages: 3, 3, 4 -> epochs 1-3 stage 1, 4-6 stage 2, 7-10 stage 3
        let stages: Vec<usize> = (1..=11).map(|e| stage_of_epoch(e, 10, 3)).collect();
        assert_eq!(stages, [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]);
        assert_eq!(stage_of_epoch(1, 1, 1), 1);
    }
}
