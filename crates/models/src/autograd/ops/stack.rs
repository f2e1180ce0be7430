//! A dense network of the fused engine's blocks (`Linear -> [BatchNorm] -> [ReLU]`, the
//! [`crate::fused::layers::Block`]s) as one graph node: the forward pass and the backward
//! pass of the whole stack run in the fused engine's column layout, where candle would make
//! two nodes per block, each with its own gradient buffers.
//!
//! The parameters stay candle [`Var`]s in the family's var map (checkpoints, evaluation and
//! Adam see nothing new): each forward pass copies their values into the stack and, in
//! training mode, BatchNorm's moved running statistics back. A custom operation can only
//! hand gradients to its operands, so the node's operands are the input and, to put the node
//! on the graph even when the input is data, the stack's first parameter; the backward pass
//! leaves the parameters' gradients with the stack, and [`Stack::add_gradients`] moves them
//! into the [`GradStore`] before the optimizer reads it.

use std::sync::{Arc, Mutex, MutexGuard};

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor, Var};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{values, with_values};
use crate::autograd::spec::BlockSpec;
use crate::fused::layers::Block;
use crate::fused::network::Network;
use crate::kernels::layout::{to_columns, to_rows, transpose_into};

/// A dense network over parameters of a var map, run forward in training mode as one node.
/// Clones share the stack.
#[derive(Clone, Debug)]
pub struct Stack {
    state: Arc<Mutex<State>>,
}

/// What a stack holds between its forward and backward passes.
#[derive(Debug)]
struct State {
    /// Checkpoint prefix of the parameters (`encoder`), for errors.
    prefix: String,
    network: Network,
    /// The var behind each of the network's named tensors, in its order, and whether it is a
    /// running statistic (copied back after a forward pass rather than trained).
    vars: Vec<(Var, bool)>,
    /// The last forward pass's input, one column per sample, and its number of samples.
    input: Vec<f32>,
    n: usize,
    /// Forward passes so far: a backward pass belongs to the last one only.
    passes: u64,
    /// Parameter gradients of the last backward pass, until [`Stack::add_gradients`].
    grads: Vec<(Var, Tensor)>,
}

impl Stack {
    /// The stack of `blocks` over the parameters under `prefix` in `varmap`
    /// (`prefix.0.linear.weight`, `prefix.0.bn.running_mean`, as the fused engine names
    /// them), trained: its backward pass leaves their gradients.
    ///
    /// # Errors
    /// If a block is a convolution or has BatchNorm without a ReLU, or the var map lacks a
    /// parameter of the blocks or holds it in another shape.
    pub fn new(blocks: &[BlockSpec], prefix: &str, varmap: &VarMap) -> Result<Self> {
        // The values drawn here are placeholders: every forward pass loads the vars'.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut fused = Vec::with_capacity(blocks.len());
        for b in blocks {
            fused.push(match (b.conv, b.batch_norm, b.relu) {
                (Some(_), _, _) => {
                    candle_core::bail!(
                        "{prefix}: a fused stack has dense blocks only, not convolutions"
                    )
                }
                (None, true, true) => Block::hidden(b.in_dim, b.out_dim, &mut rng),
                (None, false, relu) => Block::affine(b.in_dim, b.out_dim, relu, &mut rng),
                (None, true, false) => candle_core::bail!("{prefix}: BatchNorm without a ReLU"),
            });
        }
        let network = Network::new(fused);
        let all = varmap.data().lock().expect("no thread panics").clone();
        let mut named = Vec::new();
        network.named_tensors(prefix, &mut named);
        let vars = named
            .iter()
            .map(|t| match all.get(&t.name) {
                Some(var) if var.dims() == t.shape.as_slice() => {
                    Ok((var.clone(), t.name.contains(".running_")))
                }
                _ => candle_core::bail!("no tensor `{}` of shape {:?}", t.name, t.shape),
            })
            .collect::<Result<_>>()?;
        Ok(Self::of(State::new(prefix.to_string(), network, vars)))
    }

    fn of(state: State) -> Self {
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The stack on `x` (`[n, in_dim]`) in training mode: BatchNorm normalises with the
    /// batch's statistics and moves its running ones, unless the stack is frozen.
    ///
    /// # Errors
    /// If `x` is not an `f32` host matrix of the stack's input width.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (anchor, pass) = {
            let mut state = self.lock();
            state.load()?;
            state.passes += 1;
            state.grads.clear();
            (state.vars[0].0.as_tensor().clone(), state.passes)
        };
        let op = StackOp {
            state: self.state.clone(),
            pass,
        };
        let out = x.apply_op2(&anchor, op)?;
        self.lock().store_running()?;
        Ok(out)
    }

    /// Adds the parameter gradients of the last backward pass through the stack to
    /// `grads` (once: they are gone afterwards). Nothing if no backward pass ran since the
    /// last forward pass.
    ///
    /// # Errors
    /// If a gradient already in `grads` has another shape.
    pub fn add_gradients(&self, grads: &mut GradStore) -> Result<()> {
        for (var, grad) in std::mem::take(&mut self.lock().grads) {
            let sum = match grads.remove(var.as_tensor()) {
                Some(earlier) => (earlier + grad)?,
                None => grad,
            };
            grads.insert(var.as_tensor(), sum);
        }
        Ok(())
    }

    /// The same network over the same parameters, frozen: gradients reach its input only, and
    /// BatchNorm normalises with its running statistics and leaves them alone.
    pub fn frozen(&self) -> Self {
        let state = self.lock();
        let mut network = state.network.clone();
        for block in &mut network.blocks {
            block.set_frozen(true);
        }
        Self::of(State::new(
            state.prefix.clone(),
            network,
            state.vars.clone(),
        ))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("no thread panics while holding a stack")
    }
}

impl State {
    /// A stack's state before its first forward pass.
    fn new(prefix: String, network: Network, vars: Vec<(Var, bool)>) -> Self {
        Self {
            prefix,
            network,
            vars,
            input: Vec::new(),
            n: 0,
            passes: 0,
            grads: Vec::new(),
        }
    }

    /// Whether the stack leaves its parameters alone (no gradients, BatchNorm in eval mode):
    /// its blocks are all frozen ([`Stack::frozen`]).
    fn frozen(&self) -> bool {
        self.network.blocks.iter().all(Block::is_frozen)
    }

    /// Copies the vars' values into the network.
    fn load(&mut self) -> Result<()> {
        let mut named = Vec::new();
        self.network.named_tensors_mut(&self.prefix, &mut named);
        for (t, (var, _)) in named.into_iter().zip(&self.vars) {
            with_values(var.as_tensor(), |v| t.values.copy_from_slice(v))?;
        }
        Ok(())
    }

    /// Copies the network's running statistics into their vars.
    fn store_running(&self) -> Result<()> {
        if self.frozen() {
            return Ok(());
        }
        let mut named = Vec::new();
        self.network.named_tensors(&self.prefix, &mut named);
        for (t, (var, running)) in named.into_iter().zip(&self.vars) {
            if *running {
                var.set(&Tensor::from_slice(t.values, var.shape(), var.device())?)?;
            }
        }
        Ok(())
    }
}

/// [`Stack::forward`]'s operation: operands `x` and the stack's first parameter.
struct StackOp {
    state: Arc<Mutex<State>>,
    /// The forward pass this node made.
    pass: u64,
}

impl CustomOp2 for StackOp {
    fn name(&self) -> &'static str {
        "dense-stack"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        _s2: &CpuStorage,
        _l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let mut guard = self.state.lock().expect("no thread panics");
        let state = &mut *guard;
        let (&[n, width], in_dim) = (l1.dims(), state.network.in_dim()) else {
            candle_core::bail!("{}: input {:?} is no matrix", state.prefix, l1.shape());
        };
        if width != in_dim {
            candle_core::bail!("{}: input {:?}, width {in_dim}", state.prefix, l1.shape());
        }
        transpose_into(values(s1, l1)?, n, width, &mut state.input);
        state.n = n;
        let out_dim = state.network.out_dim();
        let out = to_rows(state.network.forward(&state.input, n, true), out_dim, n);
        Ok((CpuStorage::F32(out), Shape::from((n, out_dim))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        _anchor: &Tensor,
        _out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let mut guard = self.state.lock().expect("no thread panics");
        let state = &mut *guard;
        if state.passes != self.pass {
            candle_core::bail!(
                "{}: the stack ran forward again before this backward pass",
                state.prefix
            );
        }
        let (n, in_dim, out_dim) = (state.n, state.network.in_dim(), state.network.out_dim());
        let g = with_values(grad, |g| to_columns(g, n, out_dim))?;
        let need_input = x.track_op();
        let dx = state.network.backward(&state.input, &g, n, need_input);
        let dx = dx.map(|d| to_rows(d, in_dim, n));
        if !state.frozen() {
            let mut params = Vec::new();
            state.network.params_mut(&mut params);
            let trained = state.vars.iter().filter(|(_, running)| !running);
            state.grads = params
                .into_iter()
                .zip(trained)
                .map(|(p, (var, _))| {
                    let grad = Tensor::from_slice(&p.grad, var.shape(), var.device())?;
                    Ok((var.clone(), grad))
                })
                .collect::<Result<_>>()?;
        }
        let dx = dx
            .map(|d| Tensor::from_vec(d, (n, in_dim), x.device()))
            .transpose()?;
        Ok((dx, None))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::{ModuleT, VarBuilder};
    use rand::SeedableRng;

    use super::*;
    use crate::autograd::network::Network as Modules;

    fn grid(n: usize, m: usize, scale: f32) -> Vec<f32> {
        (0..n * m)
            .map(|i| ((i * 7919 % 101) as f32 / 101.0 - 0.5) * scale)
            .collect()
    }

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    fn close(what: &str, a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "{what}: {x} vs {y}"
            );
        }
    }

    /// The candle modules of `spec` under `prefix` and the stack over the same vars.
    fn both(spec: &[BlockSpec], varmap: &VarMap) -> (Modules, Stack) {
        let vb = VarBuilder::from_varmap(varmap, DType::F32, &Device::Cpu);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let modules = Modules::new(spec, varmap, vb.pp("net"), &mut rng).unwrap();
        (modules, Stack::new(spec, "net", varmap).unwrap())
    }

    #[test]
    fn a_stack_computes_what_the_candle_modules_compute() {
        let spec = [
            BlockSpec::hidden(12, 8),
            BlockSpec::hidden(8, 6),
            BlockSpec::affine(6, 3, false),
        ];
        let varmap = VarMap::new();
        let (modules, stack) = both(&spec, &varmap);
        let x = Var::from_vec(grid(5, 12, 2.0), (5, 12), &Device::Cpu).unwrap();
        let weights = Tensor::from_vec(grid(5, 3, 3.0), (5, 3), &Device::Cpu).unwrap();
        let vars = varmap.data().lock().unwrap().clone();
        let running: Vec<&String> = vars.keys().filter(|k| k.contains(".running_")).collect();
        let start: Vec<Vec<f32>> = running.iter().map(|k| values(&vars[*k])).collect();
        let mut results = Vec::new();
        for fused in [false, true] {
            for (k, v) in running.iter().zip(&start) {
                vars[*k]
                    .set(&Tensor::from_slice(v, vars[*k].shape(), &Device::Cpu).unwrap())
                    .unwrap();
            }
            let out = if fused {
                stack.forward(x.as_tensor()).unwrap()
            } else {
                modules.forward_t(x.as_tensor(), true).unwrap()
            };
            let mut grads = (&out * &weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            stack.add_gradients(&mut grads).unwrap();
            let mut seen = vec![("out".to_string(), values(&out))];
            seen.push(("dx".into(), values(grads.get(x.as_tensor()).unwrap())));
            for (name, var) in &vars {
                match grads.get(var.as_tensor()) {
                    Some(g) => seen.push((format!("grad {name}"), values(g))),
                    None => assert!(name.contains(".running_"), "no gradient for {name}"),
                }
                if name.contains(".running_") {
                    seen.push((name.clone(), values(var.as_tensor())));
                }
            }
            seen.sort_by(|a, b| a.0.cmp(&b.0));
            results.push(seen);
        }
        // Four running statistics moved, eight parameters' gradients, the output and the
        // input's gradient.
        assert_eq!(results[1].len(), 4 + 8 + 2);
        for ((name, plain), (_, fused)) in results[0].iter().zip(&results[1]) {
            close(name, fused, plain);
        }
    }

    #[test]
    fn a_frozen_stack_passes_gradients_to_its_input_alone() {
        let varmap = VarMap::new();
        let (_, stack) = both(&BlockSpec::mlp(&[3, 4, 1]), &varmap);
        let judge = stack.frozen();
        let x = Var::from_vec(grid(2, 3, 2.0), (2, 3), &Device::Cpu).unwrap();
        let mut dx = Vec::new();
        for s in [&stack, &judge] {
            let loss = s.forward(x.as_tensor()).unwrap().sqr().unwrap().sum_all();
            let mut grads = loss.unwrap().backward().unwrap();
            let before = grads.get_ids().count();
            s.add_gradients(&mut grads).unwrap();
            // The trained stack adds its four parameters' gradients; the frozen one none.
            let added = grads.get_ids().count() - before;
            assert_eq!(added, if std::ptr::eq(s, &stack) { 4 } else { 0 });
            dx.push(values(grads.get(x.as_tensor()).unwrap()));
        }
        assert_eq!(dx[0], dx[1]);
    }

    #[test]
    fn a_backward_pass_after_another_forward_pass_is_refused() {
        let varmap = VarMap::new();
        let (_, stack) = both(&BlockSpec::mlp(&[3, 2]), &varmap);
        let x = Tensor::from_vec(grid(2, 3, 1.0), (2, 3), &Device::Cpu).unwrap();
        let first = stack.forward(&x).unwrap().sum_all().unwrap();
        stack.forward(&x).unwrap();
        let err = first.backward().unwrap_err().to_string();
        assert!(err.contains("ran forward again"), "{err}");
        let empty = VarMap::new();
        let err = Stack::new(&BlockSpec::mlp(&[3, 2]), "net", &empty).unwrap_err();
        assert!(err.to_string().contains("net.0.linear.weight"), "{err}");
        let wide = Tensor::zeros((2, 4), DType::F32, &Device::Cpu).unwrap();
        assert!(stack
            .forward(&wide)
            .unwrap_err()
            .to_string()
            .contains("width 3"));
    }
}
