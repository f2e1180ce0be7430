//! The `k_sparse` family (Makhzani and Frey 2014): a dense autoencoder whose latent code
//! keeps each sample's `k = ceil(active * latent_dim)` largest encoder outputs and zeroes
//! the rest, at evaluation too (the paper's larger test-time `k` is not used); gradients
//! reach only the kept units. The selection is the regulariser: the objective is
//! reconstruction alone. As in the paper, `k` falls linearly from every unit to its final
//! value over the first half of the epochs: with `k` fixed at 5 of 20 from the start, 6
//! units were never kept (5 epochs on 10,000 MNIST images); with the schedule, none.

use crate::families::prelude::*;

/// dense, keeps the largest quarter of each latent code (k = 5 of 20).
pub fn variant() -> Variant {
    let description = "dense, keeps the largest quarter of each latent code (k = 5 of 20)";
    Variant::of_family("k_sparse", description, &[("active", 0.25)])
}

/// No prior, a deterministic latent; `active` is the fraction of the latent units kept.
pub static FAMILY: Family = Family {
    name: "k_sparse",
    revision: 1,
    capabilities: Capabilities::NONE,
    settings: &[Setting::new("active", "in (0, 1]", |v| v > 0.0 && v <= 1.0)],
    build: |variant, latent_dim, input_dim, device, rng| {
        let parts = Parts::new(&FAMILY, variant, latent_dim, input_dim, device, rng)?;
        Ok(Box::new(KSparse::new(parts)?))
    },
};

/// `e` (`[n, d]`) with all but each row's `k` largest entries zeroed; ties go to the lower
/// index, so the choice is deterministic.
pub fn top_k(e: &Tensor, k: usize) -> candle_core::Result<Tensor> {
    let mut mask = Vec::with_capacity(e.elem_count());
    for row in e.to_vec2::<f32>()? {
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
        let mut keep = vec![0f32; row.len()];
        order.iter().take(k).for_each(|&j| keep[j] = 1.0);
        mask.extend(keep);
    }
    e * Tensor::from_vec(mask, e.shape(), e.device())?
}

/// The k-sparse autoencoder, its schedule of `k` and its optimizer.
#[derive(Debug)]
struct KSparse {
    parts: Parts,
    /// The final `k`.
    k: usize,
    /// The current epoch's `k`.
    k_now: usize,
    adam: ParamGroup,
}

impl KSparse {
    fn new(parts: Parts) -> Result<Self> {
        let d = parts.latent_dim;
        let k = ((parts.variant.setting("active")? * d as f64).ceil() as usize).clamp(1, d);
        let adam = ParamGroup::new(ParamGroup::AUTOENCODER);
        Ok(Self {
            parts,
            k,
            k_now: k,
            adam,
        })
    }
}

impl FamilyModel for KSparse {
    fn parts(&self) -> &Parts {
        &self.parts
    }

    fn latent(&self, e: &Tensor) -> candle_core::Result<Tensor> {
        top_k(e, self.k_now)
    }
}

impl TrainableModel for KSparse {
    fn begin_epoch(&mut self, epoch: usize, config: &TrainingConfig) -> Result<usize> {
        let progress = ((epoch - 1) as f64 / (config.epochs / 2).max(1) as f64).min(1.0);
        let cut = (self.parts.latent_dim - self.k) as f64 * progress;
        self.k_now = self.parts.latent_dim - cut.round() as usize;
        self.adam.begin(&self.parts, config.learning_rate)?;
        Ok(1)
    }

    fn train_step(&mut self, x: &[f32], rng: &mut dyn RngCore) -> Result<LossTerms> {
        let objective = self.objective(&self.parts.batch(x)?, true, rng)?;
        self.adam.minimize(&self.parts, &objective.total()?)?;
        objective.terms()
    }

    fn end_training(&mut self) {
        self.k_now = self.k;
        self.adam.end();
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Var;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn each_row_keeps_its_k_largest_entries() {
        let dev = Device::Cpu;
        let e = Tensor::new(&[[0.3f32, -1.0, 2.0, 0.5], [1.0, 1.0, 1.0, -2.0]], &dev).unwrap();
        let e = Var::from_tensor(&e).unwrap();
        let z = top_k(e.as_tensor(), 2).unwrap();
        // row 1: 2.0 and 0.5 are the largest; row 2: a tie of three 1s keeps the first two
        let kept = [[0.0, 0.0, 2.0, 0.5], [1.0, 1.0, 0.0, 0.0]];
        assert_eq!(z.to_vec2::<f32>().unwrap(), kept);
        // the gradient of sum(z) reaches exactly the kept entries
        let grads = z.sum_all().unwrap().backward().unwrap();
        let grad = grads.get(e.as_tensor()).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(grad, [[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]]);
    }

    #[test]
    fn k_falls_from_every_unit_to_its_final_value_over_half_the_epochs() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let parts = Parts::new(&FAMILY, &variant(), 20, 64, &Device::Cpu, &mut rng).unwrap();
        let mut m = KSparse::new(parts).unwrap();
        let config = TrainingConfig {
            epochs: 10,
            ..TrainingConfig::default()
        };
        // half = 5 epochs: k = 20 - round(15 * (epoch - 1) / 5), then 5
        let ks: Vec<usize> = (1..=10)
            .map(|epoch| {
                m.begin_epoch(epoch, &config).unwrap();
                m.k_now
            })
            .collect();
        assert_eq!(ks, [20, 17, 14, 11, 8, 5, 5, 5, 5, 5]);
        m.end_training();
        assert_eq!(m.k_now, 5);
    }

    #[test]
    fn k_is_the_active_fraction_rounded_up() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        // 0.25 * 20 = 5; 0.25 * 2 = 0.5 -> 1
        for (latent, k) in [(20, 5), (2, 1)] {
            let parts = Parts::new(&FAMILY, &variant(), latent, 64, &Device::Cpu, &mut rng).unwrap();
            let m = KSparse::new(parts).unwrap();
            assert_eq!(m.k, k);
        }
    }
}
