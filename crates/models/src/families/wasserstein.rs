//! The `wasserstein` family (Tolstikhin et al. 2018, WAE-MMD): a dense autoencoder whose
//! objective adds `weight * MMD(z, z~)`, the unbiased estimate of the squared maximum mean
//! discrepancy between the batch's codes `z` and as many draws `z~` of the prior N(0, I),
//! with the inverse multiquadratic kernel `k(a, b) = C / (C + ||a - b||^2)`,
//! `C = 2 * latent_dim` (the paper's `2 d sigma^2` with `sigma^2 = 1`) and the paper's
//! weight 10. It samples by decoding prior draws.

use crate::families::prelude::*;

/// dense Wasserstein autoencoder, MMD penalty between the codes and N(0, I) (weight 10).
pub fn variant() -> Variant {
    let description =
        "dense Wasserstein autoencoder, MMD penalty between the codes and N(0, I) (weight 10)";
    Variant::of_family("wasserstein", description, &[("weight", 10.0)])
}

/// Samples from N(0, I), a deterministic latent; `weight` weighs the MMD.
pub static FAMILY: Family = Family {
    name: "wasserstein",
    capabilities: Capabilities::SAMPLES,
    settings: &[Setting::new("weight", "at least 0", |v| v >= 0.0)],
    build: |variant, latent_dim, input_dim, device, rng| {
        let parts = Parts::new(&FAMILY, variant, latent_dim, input_dim, device, rng)?;
        Ok(Box::new(OneAdam::new(Wasserstein::new(parts)?)))
    },
};

/// The unbiased MMD estimate between the rows of `z` and `prior` (both `[n, d]`): the mean
/// kernel over distinct pairs within each, minus twice the mean over all pairs across (a
/// batch of one has no distinct pairs: its within terms are 0).
pub fn mmd(z: &Tensor, prior: &Tensor) -> candle_core::Result<Tensor> {
    let (n, d) = z.dims2()?;
    let c = 2.0 * d as f64;
    let kernel = |a: &Tensor, b: &Tensor| {
        // ||a_i - b_j||^2 = |a_i|^2 + |b_j|^2 - 2 a_i . b_j
        let (a2, b2) = (a.sqr()?.sum_keepdim(1)?, b.sqr()?.sum_keepdim(1)?.t()?);
        let sq = (a2.broadcast_add(&b2)? - (a.matmul(&b.t()?)? * 2.0)?)?;
        (sq + c)?.recip()? * c
    };
    // The diagonal, where k = 1, is left out of the within sums.
    let pairs = (n * n.saturating_sub(1)).max(1) as f64;
    let within = |a: &Tensor| (kernel(a, a)?.sum_all()? - n as f64)? / pairs;
    let across = (kernel(z, prior)?.sum_all()? / (n * n) as f64)?;
    (within(z)? + within(prior)?)? - (across * 2.0)?
}

/// The Wasserstein autoencoder (trained by one Adam: [`OneAdam`]).
#[derive(Debug)]
struct Wasserstein {
    parts: Parts,
    weight: f64,
}

impl Wasserstein {
    fn new(parts: Parts) -> Result<Self> {
        let weight = parts.variant.setting("weight")?;
        Ok(Self { parts, weight })
    }
}

impl FamilyModel for Wasserstein {
    fn parts(&self) -> &Parts {
        &self.parts
    }

    fn objective(&self, x: &Tensor, train: bool, rng: &mut dyn RngCore) -> Result<Objective> {
        let mut objective = self.parts.autoencode(x, train, rng, &|e| Ok(e.clone()))?;
        let prior = self.parts.prior(objective.latent.dim(0)?, rng)?;
        let penalty = (mmd(&objective.latent, &prior)? * self.weight)?;
        objective.regularizers.push(("mmd", penalty));
        Ok(objective)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn scalar(t: &Tensor) -> f64 {
        f64::from(t.to_scalar::<f32>().unwrap())
    }

    #[test]
    fn mmd_matches_hand_computation() {
        let dev = Device::Cpu;
        // d = 1, C = 2, k(a, b) = 2 / (2 + (a - b)^2); z = {0, 1}, prior = {0, 2}.
        // within z: k(0, 1) = 2/3 over 2 ordered pairs -> 2/3
        // within prior: k(0, 2) = 1/3 -> 1/3
        // across: (k(0,0) + k(0,2) + k(1,0) + k(1,2)) / 4 = (1 + 1/3 + 2/3 + 2/3) / 4 = 2/3
        // MMD = 2/3 + 1/3 - 2 * 2/3 = -1/3 (the unbiased estimate can be negative)
        let z = Tensor::new(&[[0f32], [1.0]], &dev).unwrap();
        let prior = Tensor::new(&[[0f32], [2.0]], &dev).unwrap();
        assert!((scalar(&mmd(&z, &prior).unwrap()) + 1.0 / 3.0).abs() < 1e-6);
        // one sample: no distinct pairs within; across k(0, 2) = 1/3 -> -2/3
        let one = mmd(&z.narrow(0, 0, 1).unwrap(), &prior.narrow(0, 1, 1).unwrap());
        assert!((scalar(&one.unwrap()) + 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn the_penalty_is_the_weighted_mmd_against_prior_draws_from_the_rng() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let parts = Parts::new(&FAMILY, &variant(), 2, 16, &Device::Cpu, &mut rng).unwrap();
        let m = Wasserstein::new(parts).unwrap();
        let x = m.parts.batch(&[0.5; 4 * 16]).unwrap();
        let mut replay = rng.clone();
        let objective = m.objective(&x, false, &mut rng).unwrap();
        let prior = m.parts.prior(4, &mut replay).unwrap();
        let expected = 10.0 * scalar(&mmd(&objective.latent, &prior).unwrap());
        let terms = objective.terms().unwrap();
        assert_eq!(terms.regularizers, [("mmd".to_string(), expected)]);
    }
}
