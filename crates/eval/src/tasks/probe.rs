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
//!
//! This module holds the protocol; the frozen model is read through the model interface
//! and the classifiers (the linear layer, the baselines' encoder, their Adam) are
//! [`ae_models::classifier`]'s.

use std::convert::Infallible;

use ae_data::{LabelledImages, INPUT_DIM};
use ae_models::classifier::{Classifier, DenseEncoder, EncoderTraining};
use ae_models::{LatentMode, Model, ModelError};
use rand::seq::SliceRandom;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Number of classes of the probe's output layer.
pub const NUM_CLASSES: usize = 10;

/// Latent size of the baselines' dense encoders (the general models' latent size).
pub const BASELINE_LATENT_DIM: usize = 20;

/// Training settings of the probe and its baselines.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
/// mode. The encoder outputs are computed once (the frozen encoder is deterministic); for a
/// stochastic latent in [`LatentMode::Sampled`] (the VAE family) the bottleneck is applied
/// anew at every training batch and every evaluation, drawing fresh noise each time as the
/// reference does; otherwise the codes are formed once. [`LatentMode::Mean`] gives the
/// deterministic variant.
///
/// # Errors
/// If the model fails (e.g. its input size is not the images').
pub fn linear_probe(
    model: &dyn Model,
    data: &ProbeData<'_>,
    mode: LatentMode,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> Result<ProbeResult, ModelError> {
    let latent_dim = model.latent_dim();
    let encode = |images: &LabelledImages| model.encode(&images.images.pixels);
    let (train, validation, test) = (
        encode(data.train)?,
        encode(data.validation)?,
        encode(data.test)?,
    );
    let inputs = if model.capabilities().is_stochastic(mode) {
        FrozenFeatures {
            model,
            draw: Some(mode),
            width: model.encoded_dim(),
            train,
            validation,
            test,
        }
    } else {
        let mut codes = |e: &[f32]| model.bottleneck(e, mode, rng);
        let (train, validation, test) = (codes(&train)?, codes(&validation)?, codes(&test)?);
        FrozenFeatures {
            model,
            draw: None,
            width: latent_dim,
            train,
            validation,
            test,
        }
    };
    let classifier = Classifier::linear(latent_dim, NUM_CLASSES, config.learning_rate, rng);
    train_probe(classifier, &inputs, data, config, rng)
}

/// How the `random_encoder` baseline's BatchNorm layers compute validation and test features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    on_dense_encoder(data, EncoderTraining::Unoptimised, eval_bn, config, rng)
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
    on_dense_encoder(
        data,
        EncoderTraining::Optimised,
        EvalBatchNorm::RunningStatistics,
        config,
        rng,
    )
}

/// The probe on a dense latent-20 encoder drawn from `rng`, the linear layer drawn next.
fn on_dense_encoder(
    data: &ProbeData<'_>,
    training: EncoderTraining,
    eval_bn: EvalBatchNorm,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> ProbeResult {
    let encoder = DenseEncoder::new(INPUT_DIM, BASELINE_LATENT_DIM, rng);
    let classifier =
        Classifier::on_encoder(encoder, training, NUM_CLASSES, config.learning_rate, rng);
    let Ok(result) = train_probe(classifier, &Images { eval_bn, data }, data, config, rng);
    result
}

/// Which evaluation set to score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EvalSet {
    Validation,
    Test,
}

/// What the probe's classifier is fed.
trait ProbeInputs {
    /// Why inputs could not be formed.
    type Error;
    /// Inputs of the training rows `indices` for one training step.
    fn train_batch(
        &self,
        indices: &[usize],
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, Self::Error>;
    /// The classifier's logits of every image of an evaluation set.
    fn eval_logits(
        &self,
        classifier: &mut Classifier,
        set: EvalSet,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, Self::Error>;
}

/// Features of a frozen autoencoder: stored encoder outputs passed through the bottleneck
/// on demand (a stochastic latent), or stored latent codes.
struct FrozenFeatures<'m> {
    model: &'m dyn Model,
    /// The mode to draw codes in from the stored encoder outputs; `None` when the stored
    /// rows are the codes.
    draw: Option<LatentMode>,
    /// Width of the stored rows.
    width: usize,
    train: Vec<f32>,
    validation: Vec<f32>,
    test: Vec<f32>,
}

impl FrozenFeatures<'_> {
    fn features(&self, rows: Vec<f32>, rng: &mut dyn RngCore) -> Result<Vec<f32>, ModelError> {
        match self.draw {
            Some(mode) => self.model.bottleneck(&rows, mode, rng),
            None => Ok(rows),
        }
    }
}

impl ProbeInputs for FrozenFeatures<'_> {
    type Error = ModelError;

    fn train_batch(
        &self,
        indices: &[usize],
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        self.features(gather(&self.train, self.width, indices), rng)
    }

    fn eval_logits(
        &self,
        classifier: &mut Classifier,
        set: EvalSet,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, ModelError> {
        let rows = match set {
            EvalSet::Validation => &self.validation,
            EvalSet::Test => &self.test,
        };
        Ok(classifier.logits(&self.features(rows.clone(), rng)?))
    }
}

/// The images themselves, for a classifier with its own encoder: the baselines.
struct Images<'d> {
    eval_bn: EvalBatchNorm,
    data: &'d ProbeData<'d>,
}

impl ProbeInputs for Images<'_> {
    type Error = Infallible;

    fn train_batch(
        &self,
        indices: &[usize],
        _rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, Infallible> {
        Ok(gather(&self.data.train.images.pixels, INPUT_DIM, indices))
    }

    fn eval_logits(
        &self,
        classifier: &mut Classifier,
        set: EvalSet,
        _rng: &mut dyn RngCore,
    ) -> Result<Vec<f32>, Infallible> {
        let images = match set {
            EvalSet::Validation => &self.data.validation.images.pixels,
            EvalSet::Test => &self.data.test.images.pixels,
        };
        Ok(match self.eval_bn {
            EvalBatchNorm::RunningStatistics => classifier.logits(images),
            EvalBatchNorm::BatchStatistics { batch_size } => {
                classifier.logits_in_training_mode(images, batch_size)
            }
        })
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

/// The shared training loop: `classifier` trained on softmax cross-entropy, batches of the
/// shuffled training rows, early stopping on validation accuracy, and the test accuracy of
/// the best epoch's state.
fn train_probe<I: ProbeInputs>(
    mut classifier: Classifier,
    inputs: &I,
    data: &ProbeData<'_>,
    config: &ProbeConfig,
    rng: &mut dyn RngCore,
) -> Result<ProbeResult, I::Error> {
    assert!(config.batch_size > 0, "probe batch size must be positive");
    assert!(!data.train.is_empty(), "probe needs training images");
    let mut stopping = EarlyStopping::new(config.patience);
    let mut order: Vec<usize> = (0..data.train.len()).collect();
    let mut validation_accuracies = Vec::with_capacity(config.max_epochs);
    let mut best = classifier.clone();
    let mut grad_logits = Vec::new();
    for epoch in 1..=config.max_epochs {
        order.shuffle(rng);
        for indices in order.chunks(config.batch_size) {
            let labels: Vec<u8> = indices.iter().map(|&i| data.train.labels[i]).collect();
            let logits = classifier.train_logits(&inputs.train_batch(indices, rng)?);
            softmax_cross_entropy(&logits, &labels, NUM_CLASSES, &mut grad_logits);
            classifier.step(&grad_logits);
        }
        let logits = inputs.eval_logits(&mut classifier, EvalSet::Validation, rng)?;
        let val_accuracy = accuracy(&logits, &data.validation.labels, NUM_CLASSES);
        validation_accuracies.push(val_accuracy);
        match stopping.update(epoch, val_accuracy) {
            // The best epoch's state, BatchNorm statistics included, as its checkpoint holds.
            Decision::Improved => best = classifier.clone(),
            Decision::Continue => {}
            Decision::Stop => break,
        }
    }
    let logits = inputs.eval_logits(&mut best, EvalSet::Test, rng)?;
    Ok(ProbeResult {
        test_accuracy: accuracy(&logits, &data.test.labels, NUM_CLASSES),
        best_epoch: stopping.best_epoch().unwrap_or(0),
        validation_accuracies,
    })
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
