//! The reference study's network shapes, shared by both backends: the layer-width rule of
//! the dense encoders and decoders and BatchNorm's constants.

/// Number of hidden+input widths of a dense network (the reference's `num_layers`).
pub const DENSE_DEPTH: usize = 3;

/// The reference's shrink factor: `int(pow(input_dim // d, 1 / 3))`.
///
/// Integer division first, then a float cube root, then truncation; `512^(1/3)` evaluates
/// to 7.999… and truncates to 7, which is why latent 2 uses widths 1024-146-20.
pub fn shrink_factor(input_dim: usize, d: usize) -> usize {
    ((input_dim / d) as f64).powf(1.0 / DENSE_DEPTH as f64) as usize
}

/// Widths `[input_dim, input_dim / s, input_dim / s^2]` before a layer of size `d`.
pub fn dense_widths(input_dim: usize, d: usize) -> [usize; DENSE_DEPTH] {
    let s = shrink_factor(input_dim, d);
    [input_dim, input_dim / s, input_dim / (s * s)]
}

/// BatchNorm's `eps` (PyTorch's default).
pub const BN_EPS: f32 = 1e-5;
/// BatchNorm's `momentum` (PyTorch's default).
pub const BN_MOMENTUM: f32 = 0.1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_reference_rule() {
        // python: [1024 // int(pow(1024 // d, 1 / 3)) ** i for i in range(3)]
        assert_eq!(dense_widths(1024, 20), [1024, 341, 113]);
        assert_eq!(dense_widths(1024, 40), [1024, 512, 256]);
        assert_eq!(dense_widths(1024, 2), [1024, 146, 20]);
        assert_eq!(dense_widths(1024, 4), [1024, 170, 28]);
    }

    #[test]
    fn cube_root_of_512_truncates_to_seven() {
        // python: int(pow(512, 1 / 3)) == 7
        assert_eq!(shrink_factor(1024, 2), 7);
        assert_eq!(shrink_factor(1024, 20), 3);
    }
}
