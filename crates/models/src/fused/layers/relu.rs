//! The ReLU's forward and backward passes, vectorised.

use crate::kernels::simd::multiversion;

multiversion! {
    /// `max(v, 0)` for every value.
    pub(crate) fn relu_in_place(values: &mut [f32]) {
        values.iter_mut().for_each(|v| *v = v.max(0.0));
    }
}

multiversion! {
    /// Zeroes the gradient wherever the ReLU's output was not positive.
    pub(crate) fn mask_inactive(grad: &mut [f32], out: &[f32]) {
        for (g, &o) in grad.iter_mut().zip(out) {
            *g = if o > 0.0 { *g } else { 0.0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_and_its_gradient_mask() {
        let mut v = vec![-1.0, 0.0, 2.5];
        relu_in_place(&mut v);
        assert_eq!(v, vec![0.0, 0.0, 2.5]);
        let mut g = vec![3.0, 4.0, 5.0];
        mask_inactive(&mut g, &v);
        assert_eq!(g, vec![0.0, 0.0, 5.0]);
    }
}
