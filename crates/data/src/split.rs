//! The seeded split of the official training set into training, validation and
//! labelled (linear-probe) index lists.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Size of the validation split: the last 5,000 indices of the permutation.
pub const VALIDATION_SIZE: usize = 5_000;
/// Size of the labelled (linear-probe) subset: the first 550 indices of the permutation.
pub const LABELLED_SIZE: usize = 550;

/// The seeded split; all fields are indices into `Dataset::train`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Training split: every index of the permutation except the last
    /// `VALIDATION_SIZE` (55,000 for MNIST), in permutation order.
    pub train: Vec<usize>,
    /// Validation split: the last `VALIDATION_SIZE` indices of the permutation.
    pub validation: Vec<usize>,
    /// Labelled subset for the linear probe: the first `LABELLED_SIZE` indices of
    /// the permutation (hence a prefix of `train`).
    pub labelled: Vec<usize>,
}

/// Split `0..num_train_images` with one seeded permutation
/// (`ChaCha8Rng::seed_from_u64(seed)`, Fisher-Yates via `SliceRandom::shuffle`).
///
/// The validation split is the last `min(VALIDATION_SIZE, n)` indices, the
/// training split is everything before it (55,000 of MNIST's 60,000), and the
/// labelled subset is the first `min(LABELLED_SIZE, train.len())` indices.
pub fn split(num_train_images: usize, seed: u64) -> Split {
    let mut perm: Vec<usize> = (0..num_train_images).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    perm.shuffle(&mut rng);
    let n_train = num_train_images.saturating_sub(VALIDATION_SIZE);
    let validation = perm.split_off(n_train);
    let labelled = perm[..LABELLED_SIZE.min(n_train)].to_vec();
    Split {
        train: perm,
        validation,
        labelled,
    }
}

impl Split {
    /// The training split minus every image whose label is `digit` (anomaly
    /// runs), in the same order. `labels` are the labels of `Dataset::train`.
    pub fn without_digit(&self, labels: &[u8], digit: u8) -> Vec<usize> {
        self.train
            .iter()
            .copied()
            .filter(|&i| labels[i] != digit)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn sizes_disjoint_and_cover() {
        let s = split(60_000, 7);
        assert_eq!(s.train.len(), 55_000);
        assert_eq!(s.validation.len(), 5_000);
        assert_eq!(s.labelled.len(), 550);
        let train: HashSet<_> = s.train.iter().copied().collect();
        let val: HashSet<_> = s.validation.iter().copied().collect();
        assert_eq!(train.len(), 55_000);
        assert_eq!(val.len(), 5_000);
        assert!(train.is_disjoint(&val));
        assert_eq!(train.union(&val).count(), 60_000);
        assert_eq!(&s.labelled[..], &s.train[..550]);
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(split(60_000, 42), split(60_000, 42));
        let (a, b) = (split(60_000, 42), split(60_000, 43));
        assert_ne!(a.train, b.train);
        assert_ne!(a.validation, b.validation);
        // Actually shuffled, not the identity.
        assert_ne!(a.train[..100], (0..100).collect::<Vec<_>>()[..]);
    }

    #[test]
    fn small_inputs_do_not_panic() {
        let s = split(100, 1);
        assert!(s.train.is_empty() && s.labelled.is_empty());
        assert_eq!(s.validation.len(), 100);
        let s = split(5_100, 1);
        assert_eq!(
            (s.train.len(), s.validation.len(), s.labelled.len()),
            (100, 5_000, 100)
        );
    }

    #[test]
    fn without_digit_filters() {
        let labels: Vec<u8> = (0..6_000).map(|i| (i % 10) as u8).collect();
        let s = split(6_000, 3);
        let kept = s.without_digit(&labels, 1);
        assert!(kept.iter().all(|&i| labels[i] != 1));
        let ones = s.train.iter().filter(|&&i| labels[i] == 1).count();
        assert_eq!(kept.len(), s.train.len() - ones);
    }
}
