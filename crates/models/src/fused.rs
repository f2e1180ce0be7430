//! The fused backend: the hand-written engine, [`Autoencoder`], behind the model interface.
//! Its schedule is the variant's: one Adam for a joint schedule, a fresh Adam for each stage
//! of the greedy layer-wise one.

use std::path::Path;

use rand::RngCore;

use crate::autoencoder::{Autoencoder, Losses};
use crate::backend::Backend;
use crate::bottleneck::LatentMode;
use crate::checkpoint::{self, CheckpointError};
use crate::model::{check_rows, Capabilities, LossTerms, Model, ModelError, TrainableModel};
use crate::optim::{Adam, AdamConfig};
use crate::training::{stage_of_epoch, TrainingConfig};
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
        Autoencoder::network_param_count(self)
    }

    fn encode(&self, x: &[f32]) -> Result<Vec<f32>, ModelError> {
        check_rows("images", x, self.input_dim())?;
        Ok(Autoencoder::encode(self, x))
    }

    fn bottleneck(
        &self,
        e: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        check_rows("encoder outputs", e, self.encoded_dim())?;
        Ok(self.bottleneck_codes(e, mode, rng))
    }

    fn decode_logits(&self, z: &[f32]) -> Result<Vec<f32>, ModelError> {
        check_rows("latent codes", z, self.latent_dim)?;
        Ok(Autoencoder::decode_logits(self, z))
    }

    fn sample_latents(
        &self,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Option<Vec<f32>>, ModelError> {
        Ok(Autoencoder::sample_latents(self, n, rng))
    }

    fn evaluate(
        &self,
        x: &[f32],
        mode: LatentMode,
        rng: &mut dyn RngCore,
    ) -> Result<Losses, ModelError> {
        check_rows("images", x, self.input_dim())?;
        Ok(Autoencoder::evaluate(self, x, mode, rng))
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
