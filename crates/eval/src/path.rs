//! Interpolation paths in pixel space: the decoded frames between two images seen as a path,
//! how long each step is, how evenly the path moves, and per-frame values averaged over the
//! frames between the two ends.

/// Euclidean (L2) distance in pixel space between each frame and the next, for `frames`
/// stored one per row (`[count, width]`): `count - 1` steps.
///
/// # Panics
/// If `width` is 0 or `frames` is not whole rows of `width`.
pub fn step_lengths(frames: &[f32], width: usize) -> Vec<f64> {
    assert!(
        width > 0 && frames.len().is_multiple_of(width),
        "frames: {} values are not whole rows of {width}",
        frames.len()
    );
    let rows: Vec<&[f32]> = frames.chunks_exact(width).collect();
    rows.windows(2)
        .map(|pair| {
            pair[0]
                .iter()
                .zip(pair[1])
                .map(|(&a, &b)| {
                    let d = f64::from(b) - f64::from(a);
                    d * d
                })
                .sum::<f64>()
                .sqrt()
        })
        .collect()
}

/// The largest step of a path divided by its whole length (the sum of its steps): `1 / steps`
/// for a path that moves evenly, 1 for one that stands still except for a single jump. A path
/// that never moves (length 0) counts as even.
///
/// # Panics
/// If there are no steps.
pub fn max_step_fraction(steps: &[f64]) -> f64 {
    assert!(!steps.is_empty(), "a path needs at least one step");
    let length: f64 = steps.iter().sum();
    if length > 0.0 {
        steps.iter().fold(0.0f64, |m, &s| m.max(s)) / length
    } else {
        1.0 / steps.len() as f64
    }
}

/// Mean of per-frame `values` over the inner frames, both ends excluded.
///
/// # Panics
/// With fewer than three frames (no inner frame).
pub fn inner_mean(values: &[f64]) -> f64 {
    assert!(
        values.len() >= 3,
        "{} frames have no inner frame",
        values.len()
    );
    let inner = &values[1..values.len() - 1];
    inner.iter().sum::<f64>() / inner.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_pixel_distances_between_consecutive_frames() {
        // Frames of two pixels: (0, 0) -> (3, 4) -> (3, 4) -> (0, 0): steps 5, 0, 5.
        let frames = [0.0, 0.0, 3.0, 4.0, 3.0, 4.0, 0.0, 0.0];
        assert_eq!(step_lengths(&frames, 2), [5.0, 0.0, 5.0]);
        assert!(step_lengths(&frames[..2], 2).is_empty());
    }

    #[test]
    fn an_even_path_scores_one_over_its_steps_and_a_jump_scores_one() {
        assert_eq!(max_step_fraction(&[2.0, 2.0, 2.0, 2.0]), 0.25);
        assert_eq!(max_step_fraction(&[0.0, 3.0, 0.0]), 1.0);
        // Steps 1, 3: the largest is 3 of 4.
        assert_eq!(max_step_fraction(&[1.0, 3.0]), 0.75);
        assert_eq!(max_step_fraction(&[0.0, 0.0]), 0.5);
    }

    #[test]
    fn inner_mean_leaves_out_both_ends() {
        // (2 + 4) / 2: the ends 100 and -100 do not count.
        assert_eq!(inner_mean(&[100.0, 2.0, 4.0, -100.0]), 3.0);
    }

    #[test]
    #[should_panic(expected = "2 frames have no inner frame")]
    fn two_frames_have_no_inside() {
        inner_mean(&[1.0, 2.0]);
    }
}
