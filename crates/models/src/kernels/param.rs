//! Trainable parameters: a named, shaped value with its gradient and a frozen flag.

use rand::Rng;

use crate::kernels::noise;

/// One trainable tensor: its value, its gradient from the last backward pass, its shape
/// (PyTorch layout, e.g. `[out, in]` for a linear weight) and whether it is frozen.
#[derive(Clone, Debug)]
pub struct Param {
    /// Row-major values.
    pub value: Vec<f32>,
    /// Gradient of the last backward pass (overwritten, not accumulated).
    pub grad: Vec<f32>,
    /// Shape, PyTorch layout.
    pub shape: Vec<usize>,
    /// A frozen parameter gets no gradient and no optimizer update.
    pub frozen: bool,
}

impl Param {
    /// A parameter holding `value` with the given shape.
    pub fn new(value: Vec<f32>, shape: Vec<usize>) -> Self {
        assert_eq!(
            value.len(),
            shape.iter().product::<usize>(),
            "value does not fit shape"
        );
        let grad = vec![0.0; value.len()];
        Self {
            value,
            grad,
            shape,
            frozen: false,
        }
    }

    /// A parameter drawn from U(-bound, bound), PyTorch's default for linear layers
    /// (`bound = 1/sqrt(fan_in)`) and the vq codebook (`bound = 1/512`).
    pub fn uniform<R: Rng + ?Sized>(shape: Vec<usize>, bound: f32, rng: &mut R) -> Self {
        let value = noise::uniform(shape.iter().product(), bound, rng);
        Self::new(value, shape)
    }

    /// A parameter filled with one value (BatchNorm's gamma = 1, beta = 0).
    pub fn filled(shape: Vec<usize>, value: f32) -> Self {
        let len = shape.iter().product();
        Self::new(vec![value; len], shape)
    }

    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True for a parameter with no scalars.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// A named view of a model tensor for checkpoints: parameters and buffers alike.
pub struct NamedTensor<'a> {
    /// Checkpoint key, e.g. `encoder.0.linear.weight`.
    pub name: String,
    /// Shape, PyTorch layout.
    pub shape: Vec<usize>,
    /// The values.
    pub values: &'a [f32],
}

/// A mutable named view of a model tensor, for loading checkpoints.
pub struct NamedTensorMut<'a> {
    /// Checkpoint key.
    pub name: String,
    /// Expected shape.
    pub shape: Vec<usize>,
    /// Storage to overwrite.
    pub values: &'a mut Vec<f32>,
}

/// A parameter as a named tensor under `prefix`.
pub(crate) fn named<'a>(prefix: &str, name: &str, p: &'a Param) -> NamedTensor<'a> {
    NamedTensor {
        name: format!("{prefix}.{name}"),
        shape: p.shape.clone(),
        values: &p.value,
    }
}

/// A parameter as a mutable named tensor under `prefix`.
pub(crate) fn named_mut<'a>(prefix: &str, name: &str, p: &'a mut Param) -> NamedTensorMut<'a> {
    NamedTensorMut {
        name: format!("{prefix}.{name}"),
        shape: p.shape.clone(),
        values: &mut p.value,
    }
}
