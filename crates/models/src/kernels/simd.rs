//! Element-wise building blocks written so that the compiler vectorises them: branch-free
//! `exp` and `ln(1 + x)`, lane-wise sums, and a macro that compiles a kernel a second time
//! for AVX2 + FMA and picks that version at run time when the CPU has it.
//!
//! No `mul_add` is used, so both versions of a kernel compute bit-identical results.

/// Defines a function whose body is also compiled with AVX2 and FMA enabled; the call
/// dispatches on the CPU's features (the check is a cached load).
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    portable($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU supports every feature `avx2` was compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            portable($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// Number of independent accumulators in [`sum`]: one AVX-512 register's worth.
const LANES: usize = 16;

/// Sum of `xs` over `LANES` interleaved partial sums (vectorisable, unlike a sequential
/// float sum; the order is fixed, so the result is deterministic).
#[inline(always)]
pub fn sum(xs: &[f32]) -> f32 {
    sum_map(xs, |x| x)
}

/// Sum of `f(x)` over `xs`, with [`sum`]'s lane scheme.
#[inline(always)]
pub fn sum_map(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f(x);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Sum of `f(x, y)` over paired elements, with [`sum`]'s lane scheme.
#[inline(always)]
pub fn sum_zip(xs: &[f32], ys: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let n = xs.len().min(ys.len());
    let body = n / LANES * LANES;
    for (cx, cy) in xs[..body]
        .chunks_exact(LANES)
        .zip(ys[..body].chunks_exact(LANES))
    {
        for ((a, &x), &y) in acc.iter_mut().zip(cx).zip(cy) {
            *a += f(x, y);
        }
    }
    let tail: f32 = xs[body..n]
        .iter()
        .zip(&ys[body..n])
        .map(|(&x, &y)| f(x, y))
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// `e^x` for `x <= 0` (Cephes' `expf` polynomial, within 2 ulp of libm over that range);
/// inputs below -87 return `e^-87`, whose effect on any sum here is nil.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer, vectorisably.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 0.0);
    let k = (x * LOG2E + ROUND) - ROUND;
    let r = x - k * LN2_HI - k * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = 1.0 + r + r * r * p;
    // 2^k for k in [-126, 0]: the exponent field alone.
    let scale = f32::from_bits((((k as i32) + 127) as u32) << 23);
    e * scale
}

/// `ln(1 + x)` for `x` in `[0, 1]`, as `2 atanh(x / (2 + x))` (argument at most 1/3, seven
/// series terms: relative error below 2e-7, and exact-looking near 0).
#[inline(always)]
pub fn ln_1p_unit(x: f32) -> f32 {
    let s = x / (2.0 + x);
    let s2 = s * s;
    let mut p = 1.0f32 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    2.0 * s * p
}

/// `ln(x)` for positive, normal `x`: the exponent field plus [`ln_1p_unit`] of the mantissa.
#[inline(always)]
pub fn ln_positive(x: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) as i32 - 127) as f32;
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // in [1, 2)
    exponent * std::f32::consts::LN_2 + ln_1p_unit(mantissa - 1.0)
}

/// `(cos, sin)` of the angle `2 pi turn` for `turn` in `[0, 1)`: the quadrant from the top
/// bits, then Taylor polynomials around the middle of the quadrant (|t| <= pi/4, error below
/// 4e-7).
#[inline(always)]
pub fn cos_sin_turn(turn: f32) -> (f32, f32) {
    let quarter_turns = turn * 4.0;
    // conversions through i32 and selects instead of a match: all of it vectorises
    let quadrant = quarter_turns as i32; // truncation: 0 <= quarter_turns < 4
    let t = (quarter_turns - quadrant as f32 - 0.5) * std::f32::consts::FRAC_PI_2;
    let t2 = t * t;
    let sin_t = t * (1.0 + t2 * (-1.0 / 6.0 + t2 * (1.0 / 120.0 + t2 * (-1.0 / 5040.0))));
    let cos_t = 1.0 + t2 * (-0.5 + t2 * (1.0 / 24.0 + t2 * (-1.0 / 720.0 + t2 * (1.0 / 40_320.0))));
    // angle within the quadrant = t + pi/4
    let c = (cos_t - sin_t) * std::f32::consts::FRAC_1_SQRT_2;
    let s = (cos_t + sin_t) * std::f32::consts::FRAC_1_SQRT_2;
    // quadrant 1 turns (c, s) into (-s, c); quadrant 2 negates; quadrant 3 does both
    let odd = quadrant & 1 != 0;
    let (c, s) = (if odd { -s } else { c }, if odd { c } else { s });
    let sign = if quadrant & 2 != 0 { -1.0 } else { 1.0 };
    (sign * c, sign * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_libm_to_a_few_ulp() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -87.0 * i as f32 / 200_000.0;
            let ours = exp_nonpositive(x) as f64;
            let exact = (x as f64).exp();
            worst = worst.max(((ours - exact) / exact).abs());
        }
        assert!(worst < 3.0 * f32::EPSILON as f64, "relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert!(exp_nonpositive(-1000.0) > 0.0);
    }

    #[test]
    fn ln_1p_matches_libm() {
        let mut worst = 0.0f64;
        for i in 1..=100_000 {
            let x = i as f32 / 100_000.0;
            let exact = (x as f64).ln_1p();
            worst = worst.max(((ln_1p_unit(x) as f64 - exact) / exact).abs());
        }
        assert!(worst < 3.0 * f32::EPSILON as f64, "relative error {worst}");
        assert_eq!(ln_1p_unit(0.0), 0.0);
        assert!((ln_1p_unit(1e-30) - 1e-30).abs() < 1e-36);
    }

    #[test]
    fn ln_positive_matches_libm() {
        for &x in &[1e-30f32, 5.96e-8, 1e-3, 0.25, 0.5, 0.7, 1.0, 1.5, 3.0, 1e10] {
            let exact = (x as f64).ln();
            assert!(
                (ln_positive(x) as f64 - exact).abs() < 2e-6 * exact.abs().max(1.0),
                "ln({x})"
            );
        }
        assert_eq!(ln_positive(1.0), 0.0);
    }

    #[test]
    fn cos_sin_match_libm_around_the_circle() {
        let mut worst = 0.0f64;
        for i in 0..100_000 {
            let turn = i as f32 / 100_000.0;
            let angle = 2.0 * std::f64::consts::PI * turn as f64;
            let (c, s) = cos_sin_turn(turn);
            worst = worst
                .max((c as f64 - angle.cos()).abs())
                .max((s as f64 - angle.sin()).abs());
        }
        assert!(worst < 1e-6, "worst error {worst}");
        assert!((cos_sin_turn(0.0).0 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn lane_sums_add_everything() {
        let xs: Vec<f32> = (0..37).map(|i| i as f32).collect();
        assert_eq!(sum(&xs), 666.0);
        assert_eq!(sum_zip(&xs, &xs, |a, b| a * b), 16_206.0);
        assert_eq!(sum_map(&xs, |a| 2.0 * a), 1332.0);
        assert_eq!(sum(&[]), 0.0);
    }

    multiversion! {
        fn doubled_sum(xs: &[f32]) -> f32 {
            2.0 * sum(xs)
        }
    }

    #[test]
    fn multiversioned_kernels_run() {
        assert_eq!(doubled_sum(&[1.0, 2.0, 3.5]), 13.0);
    }
}
