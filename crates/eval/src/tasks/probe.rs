//! Task 6, classification: the linear probe on a frozen autoencoder's latent codes, its two
//! baselines (`random_encoder`, `supervised`), and the early-stopping rule they share.
//!
//! Reference behaviour (PyTorch Lightning 0.10 `Trainer` with `EarlyStopping` and
//! `ModelCheckpoint` on `val/accuracy`, mode `max`): a `Linear(latent, 10)` with PyTorch's
//! initialisation, softmax cross-entropy averaged over the batch, Adam (lr 1e-3), batches of
//! 32 reshuffled every epoch, at most 20 epochs, validation accuracy after every epoch,
//! stop once the best accuracy has not strictly improved for 3 epochs, and the test
//! accuracy of the weights of the best epoch (the earliest one on ties).
//!
//! Accuracies here are exact fractions of correct predictions; the reference averaged
//! per-batch accuracies of batches of 32, which can differ in the fourth decimal because
//! of the last, smaller batch.

use ae_data::{LabelledImages, INPUT_DIM};
use ae_models::layers::Linear;
use ae_models::layout::{column_chunks, to_columns, to_rows};
use ae_models::network::Network;
use ae_models::optim::{Adam, AdamConfig};
use ae_models::param::Param;
use ae_models::{Autoencoder, LatentMode};
use rand::seq::SliceRandom;
use rand::RngCore;
use serde::Serialize;

/// Number of classes of the probe's output layer.
pub const NUM_CLASSES: usize = 10;

/// Latent size of the baselines' dense encoders (the general models' latent size).
pub const BASELINE_LATENT_DIM: usize = 20;

/// Rows per eval-mode forward pass when computing validation and test features.
const EVAL_CHUNK: usize = 2048;

/// Training settings of the probe and its baselines.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ProbeConfig {
    /// Images per training batch.
    pub batch_size: usize,
    /// Upper bound on the number of epochs.
    pub max_epochs: usize,
    /// Epochs without a strict improvement of the validation accuracy before stopping.
    pub patience: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
}

impl Default for ProbeConfig {
    /// The reference's settings: batch 32, at most 20 epochs, patience 3, lr 1e-3.
    fn default() -> Self {
        Self {
            batch_size: 32,
            max_epochs: 20,
            patience: 3,
            learning_rate: 1e-3,
        }
    }
}

/// The three labelled sets a probe uses.
#[derive(Clone, Copy, Debug)]
pub struct ProbeData<'a> {
    /// Training images (the 550 of `Split::labelled`).
    pub train: &'a LabelledImages,
    /// Validation images, scored after every epoch (the 5,000 of `Split::validation`).
    pub validation: &'a LabelledImages,
    /// Test images, scored once with the best epoch's weights.
    pub test: &'a LabelledImages,
}

/// Outcome of one probe run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeResult {
    /// Test accuracy of the best-validation epoch's weights, in [0, 1].
    pub test_accuracy: f64,
    /// 1-based epoch of the best validation accuracy (the earliest on ties).
    pub best_epoch: usize,
    /// Validation accuracy after each epoch that ran, in order.
    pub validation_accuracies: Vec<f64>,
}

/// What [`EarlyStopping::update`] decided after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The epoch strictly beat every earlier one: keep its weights, go on.
    Improved,
    /// No improvement, but patience is not yet used up: go on.
    Continue,
    /// No improvement for `patience` epochs in a row: stop training.
    Stop,
}

/// Early stopping on a score to maximise, with Lightning's `EarlyStopping(mode="max",
/// min_delta=0)` rule and `ModelCheckpoint(mode="max", save_top_k=1)`'s choice of best
/// epoch: an epoch improves only if its score is strictly greater than the best so far
/// (ties keep the earlier epoch), and training stops after `patience` consecutive epochs
/// without improvement.
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement tolerated before stopping.
    pub patience: usize,
    best: Option<(usize, f64)>,
    wait: usize,
}

impl EarlyStopping {
    /// A fresh rule with the given patience.
    pub fn new(patience: usize) -> Self {
        Self {
            patience,
            best: None,
            wait: 0,
        }
    }

    /// Records the score of `epoch` and says whether it improved, or whether to stop.
    /// A NaN score never improves.
    pub fn update(&mut self, epoch: usize, score: f64) -> Decision {
        let improved = match self.best {
            None => !score.is_nan(),
            Some((_, best)) => score > best,
        };
        if improved {
            self.best = Some((epoch, score));
            self.wait = 0;
            Decision::Improved
        } else {
            self.wait += 1;
            if self.wait >= self.patience {
                Decision::Stop
            } else {
                Decision::Continue
            }
        }
    }

    /// The best epoch so far, if any.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best.map(|(epoch, _)| epoch)
    }

    /// The best score so far, if any.
    pub fn best_score(&self) -> Option<f64> {
        self.best.map(|(_, score)| score)
    }
}

/// Mean softmax cross-entropy of `n x classes` `logits` against `labels`
/// (`nn.CrossEntropyLoss()`), writing its gradient with respect to the logits,
/// `(softmax - onehot) / n`, into `grad`.
///
/// # Panics
/// If `logits` is not `labels.len() x classes` or a label is out of range.
pub fn softmax_cross_entropy(
    logits: &[f32],
    labels: &[u8],
    classes: usize,
    grad: &mut Vec<f32>,
) -> f64 {
    let n = labels.len();
    assert_eq!(logits.len(), n * classes, "logits must be n x classes");
    grad.clear();
    grad.resize(logits.len(), 0.0);
    let inv_n = 1.0 / n as f64;
    let mut total = 0.0f64;
    for ((row, g), &label) in logits
        .chunks_exact(classes)
        .zip(grad.chunks_exact_mut(classes))
        .zip(labels)
    {
        let label = usize::from(label);
        assert!(
            label < classes,
            "label {label} out of range for {classes} classes"
        );
        let max = row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
        let log_sum = max + sum.ln();
        total += log_sum - f64::from(row[label]);
        for (j, (gj, &v)) in g.iter_mut().zip(row).enumerate() {
            let p = (f64::from(v) - log_sum).exp();
            let target = if j == label { 1.0 } else { 0.0 };
            *gj = ((p - target) * inv_n) as f32;
        }
    }
    total * inv_n
}

/// Fraction of rows of the `n x classes` `logits` whose arg-max (the first on ties, as
/// `torch.argmax`) equals the label; 0 for no rows.
pub fn accuracy(logits: &[f32], labels: &[u8], classes: usize) -> f64 {
    let correct = logits
        .chunks_exact(classes)
        .zip(labels)
        .filter(|(row, &label)| argmax(row) == usize::from(label))
        .count();
    correct as f64 / labels.len().max(1) as f64
}

fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// The linear probe of SPEC task 6 on `model`'s encoder and bottleneck, frozen and in eval
/// mode. The encoder outputs are computed once (the frozen encoder is deterministic); the
/// bottleneck is applied anew at every training batch and every evaluation, so with
/// [`LatentMode::Sampled`] the VAE family draws fresh noise each time, as the reference
/// does. [`LatentMode::Mean`] gives the deterministic variant.
pub fn linear_probe(
    model: &mut Autoencoder,
    data: &ProbeData<'_>,
    mode: LatentMode,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> ProbeResult {
    let latent_dim = model.latent_dim;
    let stochastic = super::is_stochastic(&model.variant.bottleneck, mode);
    let encode =
        |model: &mut Autoencoder, images: &LabelledImages| model.encode(&images.images.pixels);
    let (train, validation, test) = (
        encode(model, data.train),
        encode(model, data.validation),
        encode(model, data.test),
    );
    let encoded_dim = model.encoder.out_dim();
    let mut source = if stochastic {
        FrozenFeatures {
            model,
            mode,
            stochastic,
            encoded_dim,
            train,
            validation,
            test,
        }
    } else {
        // Deterministic bottleneck: form the codes once.
        let mut codes = |e: &[f32]| model.bottleneck_codes(e, mode, rng);
        let (train, validation, test) = (codes(&train), codes(&validation), codes(&test));
        FrozenFeatures {
            model,
            mode,
            stochastic,
            encoded_dim: latent_dim,
            train,
            validation,
            test,
        }
    };
    train_probe(&mut source, latent_dim, data, config, rng)
}

/// How the `random_encoder` baseline's BatchNorm layers compute validation and test features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalBatchNorm {
    /// Eval mode on the running statistics gathered by the training batches: what the
    /// reference's Lightning loops do (they call `model.eval()` for validation and test,
    /// which the unfrozen encoder obeys); the best epoch's running statistics are kept with
    /// its weights, as its checkpoint holds them.
    RunningStatistics,
    /// Training mode (batch statistics, running statistics still updated) on consecutive
    /// unshuffled batches of this many images, as if the encoder stayed in training mode.
    BatchStatistics {
        /// Images per evaluation batch (the reference's loaders use 32).
        batch_size: usize,
    },
}

/// The reference's "trained from scratch" baseline: a randomly initialised dense latent-20
/// encoder that is neither frozen nor optimised, so its BatchNorm layers run in training
/// mode on every training batch (batch statistics, moving the running statistics) while
/// only the linear layer learns. `eval_bn` says how validation and test features are formed
/// ([`EvalBatchNorm::RunningStatistics`] is the reference's behaviour).
pub fn random_encoder(
    data: &ProbeData<'_>,
    eval_bn: EvalBatchNorm,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> ProbeResult {
    let net = Network::dense_encoder(INPUT_DIM, BASELINE_LATENT_DIM, &mut &mut *rng);
    let mut source = EncoderFeatures::new(net, false, eval_bn, data);
    train_probe(&mut source, BASELINE_LATENT_DIM, data, config, rng)
}

/// The supervised baseline: a randomly initialised dense latent-20 encoder and the linear
/// layer trained end to end on the labelled images with the probe's optimiser and early
/// stopping; BatchNorm in training mode while training, in eval mode (running statistics)
/// for validation and test.
pub fn supervised(
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> ProbeResult {
    let net = Network::dense_encoder(INPUT_DIM, BASELINE_LATENT_DIM, &mut &mut *rng);
    let mut source = EncoderFeatures::new(net, true, EvalBatchNorm::RunningStatistics, data);
    train_probe(&mut source, BASELINE_LATENT_DIM, data, config, rng)
}

/// Which evaluation set to form features for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EvalSet {
    Validation,
    Test,
}

/// Where the probe's input features come from.
trait FeatureSource {
    /// Features of the training rows `indices` for one training step.
    fn train_batch(&mut self, indices: &[usize], rng: &mut dyn RngCore) -> Vec<f32>;
    /// Features of every image of an evaluation set.
    fn eval_features(&mut self, set: EvalSet, rng: &mut dyn RngCore) -> Vec<f32>;
    /// Back-propagates the features' gradient of the last training batch into the source's
    /// parameters (only trainable sources).
    fn backward(&mut self, _grad: &[f32], _n: usize) {}
    /// Whether the source has parameters to train.
    fn trainable(&self) -> bool {
        false
    }
    /// The source's trainable parameters, always in the same order.
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }
    /// Remembers the current state as the best epoch's.
    fn keep_best(&mut self) {}
    /// Returns to the state remembered by [`FeatureSource::keep_best`].
    fn restore_best(&mut self) {}
}

/// Features of a frozen autoencoder: stored encoder outputs passed through the bottleneck
/// on demand (stochastic), or stored latent codes (deterministic).
struct FrozenFeatures<'m> {
    model: &'m mut Autoencoder,
    mode: LatentMode,
    stochastic: bool,
    /// Width of the stored rows.
    encoded_dim: usize,
    train: Vec<f32>,
    validation: Vec<f32>,
    test: Vec<f32>,
}

impl FeatureSource for FrozenFeatures<'_> {
    fn train_batch(&mut self, indices: &[usize], rng: &mut dyn RngCore) -> Vec<f32> {
        let rows = gather(&self.train, self.encoded_dim, indices);
        if self.stochastic {
            self.model.bottleneck_codes(&rows, self.mode, rng)
        } else {
            rows
        }
    }

    fn eval_features(&mut self, set: EvalSet, rng: &mut dyn RngCore) -> Vec<f32> {
        let rows = match set {
            EvalSet::Validation => &self.validation,
            EvalSet::Test => &self.test,
        };
        if self.stochastic {
            self.model.bottleneck_codes(rows, self.mode, rng)
        } else {
            rows.clone()
        }
    }
}

/// Features of a dense encoder run on the images: the baselines.
struct EncoderFeatures<'d> {
    net: Network,
    trainable: bool,
    eval_bn: EvalBatchNorm,
    train: &'d [f32],
    validation: &'d [f32],
    test: &'d [f32],
    /// Input of the last training batch, for the backward pass.
    batch: Vec<f32>,
    best: Option<Network>,
}

impl<'d> EncoderFeatures<'d> {
    fn new(net: Network, trainable: bool, eval_bn: EvalBatchNorm, data: &ProbeData<'d>) -> Self {
        Self {
            net,
            trainable,
            eval_bn,
            train: &data.train.images.pixels,
            validation: &data.validation.images.pixels,
            test: &data.test.images.pixels,
            batch: Vec::new(),
            best: None,
        }
    }
}

impl FeatureSource for EncoderFeatures<'_> {
    fn train_batch(&mut self, indices: &[usize], _rng: &mut dyn RngCore) -> Vec<f32> {
        let n = indices.len();
        self.batch = to_columns(&gather(self.train, INPUT_DIM, indices), n, INPUT_DIM);
        let out_dim = self.net.out_dim();
        to_rows(self.net.forward(&self.batch, n, true), out_dim, n)
    }

    fn eval_features(&mut self, set: EvalSet, _rng: &mut dyn RngCore) -> Vec<f32> {
        let images = match set {
            EvalSet::Validation => self.validation,
            EvalSet::Test => self.test,
        };
        let (chunk, train_mode) = match self.eval_bn {
            EvalBatchNorm::RunningStatistics => (EVAL_CHUNK, false),
            EvalBatchNorm::BatchStatistics { batch_size } => (batch_size.max(1), true),
        };
        let out_dim = self.net.out_dim();
        let mut out = Vec::with_capacity(images.len() / INPUT_DIM * out_dim);
        for (columns, n) in column_chunks(images, INPUT_DIM, chunk) {
            out.extend(to_rows(
                self.net.forward(&columns, n, train_mode),
                out_dim,
                n,
            ));
        }
        out
    }

    fn backward(&mut self, grad: &[f32], n: usize) {
        let grad = to_columns(grad, n, self.net.out_dim());
        self.net.backward(&self.batch, &grad, n, false);
    }

    fn trainable(&self) -> bool {
        self.trainable
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        if !self.trainable {
            return Vec::new();
        }
        let mut out = Vec::new();
        for block in &mut self.net.blocks {
            out.push(&mut block.linear.weight);
            if let Some(bias) = &mut block.linear.bias {
                out.push(bias);
            }
            if let Some(bn) = &mut block.batch_norm {
                out.push(&mut bn.gamma);
                out.push(&mut bn.beta);
            }
        }
        out
    }

    fn keep_best(&mut self) {
        self.best = Some(self.net.clone());
    }

    fn restore_best(&mut self) {
        if let Some(best) = self.best.take() {
            self.net = best;
        }
    }
}

/// Rows `indices` of a row-major matrix `width` wide.
fn gather(rows: &[f32], width: usize, indices: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(indices.len() * width);
    for &i in indices {
        out.extend_from_slice(&rows[i * width..(i + 1) * width]);
    }
    out
}

/// Logits (`n x classes`) of the linear head on `n x in_dim` features (one row per sample;
/// the layer itself works one column per sample).
fn head_logits(head: &Linear, features: &[f32]) -> Vec<f32> {
    let n = features.len() / head.in_dim;
    let mut logits = vec![0.0; n * head.out_dim];
    head.forward(&to_columns(features, n, head.in_dim), n, &mut logits);
    to_rows(&logits, head.out_dim, n)
}

/// The shared training loop: a fresh `Linear(feature_dim, 10)`, Adam over the head (and the
/// source's parameters if trainable), early stopping on validation accuracy, and the test
/// accuracy of the best epoch's state.
fn train_probe(
    source: &mut dyn FeatureSource,
    feature_dim: usize,
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> ProbeResult {
    assert!(config.batch_size > 0, "probe batch size must be positive");
    assert!(!data.train.is_empty(), "probe needs training images");
    let mut head = Linear::new(feature_dim, NUM_CLASSES, true, &mut &mut *rng);
    let mut adam = Adam::new(AdamConfig {
        lr: config.learning_rate,
        ..AdamConfig::default()
    });
    let mut stopping = EarlyStopping::new(config.patience);
    let mut order: Vec<usize> = (0..data.train.len()).collect();
    let mut validation_accuracies = Vec::with_capacity(config.max_epochs);
    let mut best_head = head.clone();
    let (mut grad_logits, mut grad_features) = (Vec::new(), Vec::new());
    for epoch in 1..=config.max_epochs {
        order.shuffle(rng);
        for indices in order.chunks(config.batch_size) {
            let n = indices.len();
            let labels: Vec<u8> = indices.iter().map(|&i| data.train.labels[i]).collect();
            let features = source.train_batch(indices, rng);
            let logits = head_logits(&head, &features);
            softmax_cross_entropy(&logits, &labels, NUM_CLASSES, &mut grad_logits);
            let grad_logit_columns = to_columns(&grad_logits, n, NUM_CLASSES);
            head.backward_params(
                &to_columns(&features, n, feature_dim),
                &grad_logit_columns,
                n,
            );
            if source.trainable() {
                grad_features.resize(n * feature_dim, 0.0);
                head.backward_input(&grad_logit_columns, n, &mut grad_features);
                source.backward(&to_rows(&grad_features, feature_dim, n), n);
            }
            let mut params = source.params_mut();
            params.push(&mut head.weight);
            params.extend(head.bias.as_mut());
            adam.step(&mut params);
        }
        let features = source.eval_features(EvalSet::Validation, rng);
        let val_accuracy = accuracy(
            &head_logits(&head, &features),
            &data.validation.labels,
            NUM_CLASSES,
        );
        validation_accuracies.push(val_accuracy);
        match stopping.update(epoch, val_accuracy) {
            Decision::Improved => {
                best_head = head.clone();
                source.keep_best();
            }
            Decision::Continue => {}
            Decision::Stop => break,
        }
    }
    source.restore_best();
    let features = source.eval_features(EvalSet::Test, rng);
    let test_accuracy = accuracy(
        &head_logits(&best_head, &features),
        &data.test.labels,
        NUM_CLASSES,
    );
    ProbeResult {
        test_accuracy,
        best_epoch: stopping.best_epoch().unwrap_or(0),
        validation_accuracies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn early_stopping_keeps_the_best_and_stops_after_patience() {
        let mut es = EarlyStopping::new(3);
        let scripted = [
            (0.50, Decision::Improved),
            (0.60, Decision::Improved),
            (0.55, Decision::Continue),
            (0.70, Decision::Improved), // improvement resets the count
            (0.70, Decision::Continue), // a tie is no improvement
            (0.65, Decision::Continue),
            (0.70, Decision::Stop), // third epoch without strict improvement
        ];
        for (i, &(score, expected)) in scripted.iter().enumerate() {
            assert_eq!(es.update(i + 1, score), expected, "epoch {}", i + 1);
        }
        assert_eq!(es.best_epoch(), Some(4));
        assert_eq!(es.best_score(), Some(0.70));
    }

    #[test]
    fn early_stopping_never_stops_while_improving() {
        let mut es = EarlyStopping::new(3);
        for epoch in 1..=20 {
            assert_eq!(es.update(epoch, epoch as f64 / 100.0), Decision::Improved);
        }
        assert_eq!(es.best_epoch(), Some(20));
        let mut flat = EarlyStopping::new(1);
        assert_eq!(flat.update(1, 0.3), Decision::Improved);
        assert_eq!(flat.update(2, 0.3), Decision::Stop);
        assert_eq!(flat.best_epoch(), Some(1));
    }

    #[test]
    fn cross_entropy_hand_values() {
        // Uniform logits: loss ln(10), gradient (0.1 - onehot) / n.
        let mut grad = Vec::new();
        let loss = softmax_cross_entropy(&[0.0; 20], &[3, 7], 10, &mut grad);
        assert!((loss - 10f64.ln()).abs() < 1e-9);
        for (i, g) in grad.iter().enumerate() {
            let target = if i == 3 || i == 17 { 1.0 } else { 0.0 };
            assert!((g - (0.1 - target) / 2.0).abs() < 1e-7, "grad[{i}] = {g}");
        }
        // Two classes, logits (0, ln 3): p = (1/4, 3/4), label 1 -> loss ln(4/3).
        let loss = softmax_cross_entropy(&[0.0, 3f32.ln()], &[1], 2, &mut grad);
        assert!((loss - (4.0f64 / 3.0).ln()).abs() < 1e-6);
        assert!((grad[0] - 0.25).abs() < 1e-6 && (grad[1] + 0.25).abs() < 1e-6);
    }

    #[test]
    fn cross_entropy_gradient_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let n = 4;
        let logits: Vec<f32> = (0..n * NUM_CLASSES)
            .map(|_| rng.random_range(-3.0..3.0))
            .collect();
        let labels: Vec<u8> = (0..n).map(|_| rng.random_range(0..10)).collect();
        let mut grad = Vec::new();
        softmax_cross_entropy(&logits, &labels, NUM_CLASSES, &mut grad);
        let mut scratch = Vec::new();
        let h = 1e-2f32;
        for i in 0..logits.len() {
            let (mut plus, mut minus) = (logits.clone(), logits.clone());
            plus[i] += h;
            minus[i] -= h;
            let numeric = (softmax_cross_entropy(&plus, &labels, NUM_CLASSES, &mut scratch)
                - softmax_cross_entropy(&minus, &labels, NUM_CLASSES, &mut scratch))
                / (2.0 * f64::from(h));
            assert!(
                (numeric - f64::from(grad[i])).abs() < 1e-4,
                "logit {i}: {numeric} vs {}",
                grad[i]
            );
        }
    }

    #[test]
    fn accuracy_takes_the_first_maximum() {
        let logits = [
            1.0, 3.0, 3.0, /* */ 5.0, 0.0, 0.0, /* */ 0.0, 0.0, 0.0,
        ];
        // rows predict 1, 0, 0
        assert!((accuracy(&logits, &[1, 0, 2], 3) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(accuracy(&[], &[], 3), 0.0);
    }

    /// Separable synthetic "images": class c lights up pixel block c.
    fn synthetic(n: usize, rng: &mut ChaCha8Rng) -> LabelledImages {
        let mut pixels = vec![0.0f32; n * INPUT_DIM];
        let labels: Vec<u8> = (0..n).map(|i| (i % NUM_CLASSES) as u8).collect();
        for (row, &label) in pixels.chunks_exact_mut(INPUT_DIM).zip(&labels) {
            let start = usize::from(label) * 100;
            for v in &mut row[start..start + 100] {
                *v = 0.8 + 0.2 * rng.random::<f32>();
            }
        }
        LabelledImages {
            images: ae_data::Images::from_pixels(pixels),
            labels,
        }
    }

    #[test]
    fn baselines_learn_a_separable_problem() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (train, validation, test) = (
            synthetic(550, &mut rng),
            synthetic(200, &mut rng),
            synthetic(200, &mut rng),
        );
        let data = ProbeData {
            train: &train,
            validation: &validation,
            test: &test,
        };
        // A larger step than the reference's so the frozen random features get a fair
        // number of effective updates on this small problem.
        let config = ProbeConfig {
            learning_rate: 1e-2,
            ..ProbeConfig::default()
        };
        let sup = supervised(&data, &config, &mut rng);
        assert!(sup.test_accuracy > 0.9, "{sup:?}");
        for eval_bn in [
            EvalBatchNorm::RunningStatistics,
            EvalBatchNorm::BatchStatistics { batch_size: 32 },
        ] {
            let random = random_encoder(&data, eval_bn, &config, &mut rng);
            assert!(random.test_accuracy > 0.5, "{eval_bn:?}: {random:?}");
            assert!(
                random.best_epoch >= 1 && random.best_epoch <= random.validation_accuracies.len()
            );
        }
    }
}
