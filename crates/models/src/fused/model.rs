//! The fused backend: the hand-written engine, [`Autoencoder`], behind the model interface.
//! Its schedule is the variant's: one Adam for a joint schedule, a fresh Adam for each stage
//! of the greedy layer-wise one.

use std::path::Path;

use rand::RngCore;

use crate::checkpoint::CheckpointError;
use crate::config::{stage_of_epoch, TrainingConfig};
use crate::fused::autoencoder::Autoencoder;
use crate::fused::checkpoint;
use crate::kernels::layout::{column_chunks, to_rows};
use crate::kernels::loss::bce_total;
use crate::kernels::optim::{Adam, AdamConfig};
use crate::latent::Capabilities;
use crate::latent::LatentMode;
use crate::model::Backend;
use crate::model::{check_rows, LossTerms, Model, ModelError, TrainableModel};
use crate::model::{Losses, INFERENCE_CHUNK};
use crate::variant::Variant;

impl Model for Autoencoder {
    fn variant(&self) -> &Variant {
        &self.variant
    }

    fn backend(&self) -> Backend {
        Backend::Fused
    }

    fn latent_dim(&self) -> usize {
        self.latent_dim
    }

    fn input_dim(&self) -> usize {
        self.encoder.blocks[0].in_dim()
    }

    fn encoded_dim(&self) -> usize {
        self.encoder.blocks[self.encoder.blocks.len() - 1].out_dim()
    }

    fn capabilities(&self) -> Capabilities {
        self.variant.bottleneck.capabilities()
    }

    fn network_param_count(&self) -> usize {
        self.encoder.param_count() + self.decoder.param_count()
    }

    fn encode(&self, x: &[f32]) -> Result<Vec<f32>, ModelError> {
        check_rows("images", x, self.input_dim())?;
        Ok(self.encoder.infer(x))
    }

    fn bottleneck(
        &self,
        e: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        let width = self.encoded_dim();
        let rows = check_rows("encoder outputs", e, width)?;
        let mut out = Vec::with_capacity(rows * self.latent_dim);
        for (columns, n) in column_chunks(e, width, INFERENCE_CHUNK) {
            let (z, _) = self.bottleneck.infer(&columns, n, mode, rng);
            out.extend(to_rows(&z, self.latent_dim, n));
        }
        Ok(out)
    }

    fn decode_logits(&self, z: &[f32]) -> Result<Vec<f32>, ModelError> {
        check_rows("latent codes", z, self.latent_dim)?;
        Ok(self.decoder.infer(z))
    }

    fn sample_latents(
        &self,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Option<Vec<f32>>, ModelError> {
        Ok(self.bottleneck.sample(n, rng))
    }

    fn evaluate(
        &self,
        x: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Losses, ModelError> {
        let width = self.input_dim();
        let total_rows = check_rows("images", x, width)?;
        let mut sum = Losses::default();
        for (columns, n) in column_chunks(x, width, INFERENCE_CHUNK) {
            let e = self.encoder.forward_eval(&columns, n);
            let (z, bottleneck) = self.bottleneck.infer(&e, n, mode, rng);
            let logits = self.decoder.forward_eval(&z, n);
            sum.recon += bce_total(&logits, &columns);
            sum.bottleneck += bottleneck * n as f64;
        }
        Ok(Losses {
            recon: sum.recon / total_rows as f64,
            bottleneck: sum.bottleneck / total_rows as f64,
        })
    }

    fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        checkpoint::save(self, path)
    }

    fn load(&mut self, path: &Path) -> Result<(), CheckpointError> {
        checkpoint::load_into(self, path)
    }
}

impl TrainableModel for Autoencoder {
    fn begin_epoch(&mut self, epoch: usize, config: &TrainingConfig) -> Result<usize, ModelError> {
        let stage = stage_of_epoch(epoch, config.epochs, self.num_stages());
        if self.training.as_ref().map(|(s, _)| *s) != Some(stage) {
            self.set_stage(stage);
            let adam = Adam::new(AdamConfig {
                lr: config.learning_rate,
                ..AdamConfig::default()
            });
            self.training = Some((stage, adam));
        }
        Ok(stage)
    }

    fn train_step(&mut self, x: &[f32], rng: &mut dyn RngCore) -> Result<LossTerms, ModelError> {
        let n = check_rows("training batch", x, self.input_dim())?;
        let losses = self.forward_backward(x, n, rng);
        let (stage, mut adam) = self
            .training
            .take()
            .unwrap_or_else(|| (self.num_stages(), Adam::new(AdamConfig::default())));
        adam.step(&mut self.params_mut());
        self.training = Some((stage, adam));
        Ok(LossTerms {
            recon: losses.recon,
            regularizers: self
                .variant
                .bottleneck
                .loss_name()
                .map(|name| (name.to_string(), losses.bottleneck))
                .into_iter()
                .collect(),
            auxiliary: Vec::new(),
        })
    }

    fn end_training(&mut self) {
        self.training = None;
        self.set_full();
    }
}
