#!/usr/bin/env python3
"""Plain-PyTorch timing of ONE training step for each of the nine bake-off variants
(and ae-bakeoff's six autoencoder families: `tied`, `contractive`, `k_sparse`,
`wasserstein`, `adversarial` and `conv`).

This script is a yardstick so that the Rust engine of ae-bakeoff can be compared
with PyTorch on the same CPU. It is NOT part of the Rust build; PyTorch is not a
dependency of the Rust project. It re-creates, with plain ``torch.nn`` modules,
the networks and bottlenecks of "The Great Autoencoder Bake Off"
(https://github.com/tilman151/ae_bakeoff) for latent size 20 and times

    zero_grad -> forward -> loss -> backward -> optimizer.step

on random uniform inputs of 1024 floats in [0, 1] (a fixed pool of batches is
generated up front, so data generation is not timed).

What is modelled (latent 20, MNIST padded to 32x32 = 1024 inputs):

* dense encoder 1024-341-113-20 / decoder 20-113-341-1024; hidden layers are
  Linear(no bias) -> BatchNorm1d -> ReLU, the encoder's last layer is a Linear
  with bias, the decoder's last layer is Linear(with bias) -> Sigmoid;
* VAE variants: encoder 1024-512-256-40 (split into mu | log_sigma), decoder as above;
* shallow: Linear(1024, 20) -> ReLU / Linear(20, 1024) -> Sigmoid;
* bottlenecks: identity (shallow, vanilla, stacked, denoising); sparse
  (z = sigmoid(e), loss = sum_j KL(0.25 || batch-mean z_j)); VAE
  (z = mu + exp(log_sigma) * eps, KL = beta * batch-mean(0.5 * sum(exp(2 ls) + mu^2 - 1 - 2 ls)),
  beta = 1 / 2 / 0.5 for vae / beta_vae_strict / beta_vae_loose); vq (per-dimension
  codebook of 512 scalars, nearest code, loss = batch-mean(sum_j (sg(e)-z)^2 + (e-sg(z))^2),
  straight-through gradient);
* denoising: the encoder sees clip(x + 0.5 * randn, 0, 1), the target stays x;
* stacked: the row "stacked" times the LAST stage (3/3) of greedy layer-wise
  training as in the reference: the full 1024-341-113-20-113-341-1024 network,
  with the two lower encoder layers and the two upper decoder layers frozen
  (no parameter gradients, their BatchNorms in eval mode), so only
  113->20 and 20->113(+BN) are trained. The extra row "stacked_stage1" times
  stage 1/3, the shallow AE 1024-341(BN, ReLU)-1024(Sigmoid). (An un-frozen full
  stacked network is exactly the "vanilla" row.)
* loss = F.binary_cross_entropy(sigmoid output, x, reduction='sum') / batch
  + bottleneck loss; Adam(lr=1e-3) over all parameters;
  zero_grad uses set_to_none=True (the torch >= 2.0 default).

The unit of interest is one epoch = 55,000 samples (215 steps of 256); by default
10 warm-up steps and then 60 timed steps are run per variant, repeated
``--repeats`` times, and the best repeat is reported as samples/s. The phases of
the vanilla step (forward+loss, backward, optimizer) are timed separately with
time.perf_counter (``--phases all`` does this for every variant).

Install (Debian 12 "bookworm"):

    apt-get install python3-torch libopenblas0-openmp

and check that ``update-alternatives --display libblas.so.3-x86_64-linux-gnu``
points at openblas-openmp. Debian's torch is linked against the generic
libblas.so.3; without OpenBLAS it falls back to the reference (netlib) BLAS,
which is roughly 20x slower for these matrix products. Alternatively
``pip install torch`` (PyPI) into a virtualenv works too (it bundles its own BLAS).
Use Debian's interpreter explicitly if another python3 is first on PATH:

    /usr/bin/python3 scripts/pytorch_step_bench.py --threads 2

Other processes using the CPU depress the numbers; the load average is printed
before and after the measurement.
"""

import argparse
import os
import re
import sys
import time

VARIANTS = [
    "shallow",
    "vanilla",
    "stacked",
    "sparse",
    "denoising",
    "vae",
    "beta_vae_strict",
    "beta_vae_loose",
    "vq",
]
# Autoencoder families of ae-bakeoff's autograd backend (not in the reference study).
FAMILIES = ["tied", "contractive", "k_sparse", "wasserstein", "adversarial", "conv"]
EXTRA_VARIANTS = ["stacked_stage1"] + FAMILIES
EPOCH_SAMPLES = 55_000
INPUT_DIM = 1024
LATENT_DIM = 20


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=60, help="timed steps per repeat (default 60)")
    p.add_argument("--warmup", type=int, default=10, help="untimed warm-up steps (default 10)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed repeats per variant; the best is reported (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="intra-op threads (default: all cores = %(default)s)")
    p.add_argument("--batch", type=int, default=256, help="batch size (default 256)")
    p.add_argument("--variants", default=",".join(VARIANTS + EXTRA_VARIANTS),
                   help="comma-separated subset of %s" % ",".join(VARIANTS + EXTRA_VARIANTS))
    p.add_argument("--phases", choices=["vanilla", "all", "none"], default="vanilla",
                   help="which variants get a forward/backward/optimizer breakdown")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


ARGS = parse_args()
# Must happen before torch (and its OpenMP / OpenBLAS) is loaded.
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# ---------------------------------------------------------------- networks

def hidden(in_units, out_units):
    return nn.Sequential(nn.Linear(in_units, out_units, bias=False),
                         nn.BatchNorm1d(out_units),
                         nn.ReLU(inplace=True))


def dense_encoder(units):
    """units = [1024, ..., out]; hidden layers for all but the last transition."""
    layers = [hidden(a, b) for a, b in zip(units[:-2], units[1:-1])]
    layers.append(nn.Linear(units[-2], units[-1]))
    return nn.Sequential(*layers)


def dense_decoder(units):
    """units = [latent, ..., 1024]."""
    layers = [hidden(a, b) for a, b in zip(units[:-2], units[1:-1])]
    layers.append(nn.Sequential(nn.Linear(units[-2], units[-1]), nn.Sigmoid()))
    return nn.Sequential(*layers)


DENSE_ENC = [INPUT_DIM, 341, 113, LATENT_DIM]
VAE_ENC = [INPUT_DIM, 512, 256, 2 * LATENT_DIM]
DENSE_DEC = [LATENT_DIM, 113, 341, INPUT_DIM]


# ------------------------------------------------------------- bottlenecks

def identity_bottleneck(e):
    return e, None


def sparse_bottleneck(e, sparsity=0.25):
    z = torch.sigmoid(e)
    avg = z.mean(0)
    kl = sparsity * torch.log(sparsity / avg) + (1 - sparsity) * torch.log((1 - sparsity) / (1 - avg))
    return z, kl.sum()


def make_vae_bottleneck(beta):
    def vae_bottleneck(e):
        mu, log_sigma = torch.split(e, e.shape[1] // 2, dim=1)
        z = torch.randn_like(mu) * log_sigma.exp() + mu
        kl = 0.5 * torch.sum((2 * log_sigma).exp() + mu ** 2 - 1 - 2 * log_sigma, dim=1)
        return z, beta * kl.mean()
    return vae_bottleneck


class VQBottleneck(nn.Module):
    def __init__(self, latent_dim=LATENT_DIM, num_categories=512):
        super().__init__()
        self.codebook = nn.Parameter(
            torch.empty(latent_dim, num_categories).uniform_(-1 / num_categories, 1 / num_categories))
        self.register_buffer("dims", torch.arange(latent_dim), persistent=False)

    def forward(self, e):
        dist = (self.codebook.unsqueeze(0) - e.unsqueeze(-1)) ** 2      # (B, L, K)
        idx = dist.argmin(-1)                                              # (B, L)
        z = self.codebook[self.dims, idx]                                  # (B, L)
        loss = ((z - e.detach()) ** 2 + (e - z.detach()) ** 2).sum(1).mean(0)
        z = e + (z - e).detach()  # straight-through: value z, gradient to e
        return z, loss


# ------------------------------------------------------------------- model

class AE(nn.Module):
    def __init__(self, encoder, bottleneck, decoder, noise_ratio=0.0):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.bottleneck = bottleneck  # an nn.Module (vq) is registered, a function is not
        self.noise_ratio = noise_ratio

    def loss(self, x):
        inp = x
        if self.training and self.noise_ratio > 0:
            inp = torch.clamp(x + torch.randn_like(x) * self.noise_ratio, 0.0, 1.0)
        z, bottleneck_loss = self.bottleneck(self.encoder(inp))
        recon = self.decoder(z)
        loss = F.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0]
        if bottleneck_loss is not None:
            loss = loss + bottleneck_loss
        return loss


class StackedStage(nn.Module):
    """Stage `stage` (1..3) of the greedy layer-wise stacked AE with frozen lower stages."""

    def __init__(self, stage):
        super().__init__()
        self.encoder = dense_encoder(DENSE_ENC)
        self.decoder = dense_decoder(DENSE_DEC)
        n = len(self.encoder)
        self.enc_active = list(range(stage))              # encoder layers [0, stage)
        self.dec_active = list(range(n - stage, n))       # decoder layers [n-stage, n)
        self.frozen = ([self.encoder[i] for i in self.enc_active[:-1]] +
                       [self.decoder[i] for i in self.dec_active[1:]])
        for m in self.frozen:
            for p in m.parameters():
                p.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        for m in self.frozen:
            for sub in m.modules():
                if isinstance(sub, nn.BatchNorm1d):
                    sub.eval()
        return self

    def loss(self, x):
        h = x
        for i in self.enc_active:
            h = self.encoder[i](h)
        for i in self.dec_active:
            h = self.decoder[i](h)
        return F.binary_cross_entropy(h, x, reduction="sum") / x.shape[0]


class Tied(AE):
    """The `tied` family: the decoder's hidden and output layers compute with the encoder's
    weights transposed (in reverse order), keeping their own biases and BatchNorms."""

    def __init__(self):
        super().__init__(dense_encoder(DENSE_ENC), identity_bottleneck, dense_decoder(DENSE_DEC))
        for layer in self.decoder:
            del layer[0].weight  # replaced by the encoder's, transposed, in loss()

    def loss(self, x):
        e = self.encoder(x)
        weights = [self.encoder[0][0].weight, self.encoder[1][0].weight, self.encoder[2].weight]
        h = e
        for layer, w in zip(self.decoder, reversed(weights)):
            h = F.linear(h, w.t(), layer[0].bias)
            for module in list(layer)[1:]:
                h = module(h)
        return F.binary_cross_entropy(h, x, reduction="sum") / x.shape[0]


class Contractive(AE):
    """The `contractive` family with lambda = 0.1: BCE + lambda * batch-mean ||J(x)||_F^2 of
    the encoder, computed exactly as ae-bakeoff computes it (crates/models/src/variants/
    contractive.rs): each block is locally diag(s) W, s being ReLU's 0/1 times BatchNorm's
    gamma / sqrt(batch var + eps); with P = diag(s3) W3 diag(s2) W2 diag(s1) per sample,
    ||J||^2 = tr(P G P^T) for G = W1 W1^T."""

    def __init__(self, lam=0.1):
        super().__init__(dense_encoder(DENSE_ENC), identity_bottleneck, dense_decoder(DENSE_DEC))
        self.lam = lam

    def loss(self, x):
        h, slopes, weights = x, [], []
        for block in list(self.encoder)[:-1]:
            linear, bn = block[0], block[1]
            z = linear(h)
            out = F.relu(bn(z))
            var = z.var(0, unbiased=False)
            slopes.append(bn.weight / torch.sqrt(var + bn.eps) * (out > 0))
            weights.append(linear.weight)
            h = out
        last = self.encoder[-1]
        e = last(h)
        slopes.append(torch.ones_like(e))
        weights.append(last.weight)
        n, out_dim = e.shape
        p = torch.eye(out_dim).expand(n, out_dim, out_dim)
        for s, w in reversed(list(zip(slopes[1:], weights[1:]))):
            p = (p * s.unsqueeze(1)).reshape(n * out_dim, -1) @ w
            p = p.reshape(n, out_dim, -1)
        p = (p * slopes[0].unsqueeze(1)).reshape(n * out_dim, -1)
        gram = weights[0] @ weights[0].t()
        norms = ((p @ gram) * p).reshape(n, -1).sum(1)
        recon = self.decoder(e)
        bce = F.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0]
        return bce + self.lam * norms.mean()


class KSparse(AE):
    """The `k_sparse` family at its final k: each code keeps its k = 5 largest of 20 units,
    the rest zeroed (crates/models/src/families/k_sparse.rs); the loss is BCE alone."""

    def __init__(self, k=5):
        super().__init__(dense_encoder(DENSE_ENC), identity_bottleneck, dense_decoder(DENSE_DEC))
        self.k = k

    def loss(self, x):
        e = self.encoder(x)
        mask = torch.zeros_like(e).scatter_(1, e.topk(self.k, dim=1).indices, 1.0)
        recon = self.decoder(e * mask)
        return F.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0]


def imq_mmd(z, prior):
    """The unbiased MMD estimate with the kernel C / (C + ||a - b||^2), C = 2 * latent_dim,
    as crates/models/src/autograd/ops/mmd.rs computes it."""
    n, d = z.shape
    c = 2.0 * d

    def kernel_sum(a, b):
        sq = (a * a).sum(1, keepdim=True) + (b * b).sum(1).unsqueeze(0) - 2 * a @ b.t()
        return (c / (c + sq.clamp(min=0))).sum()
    pairs = n * (n - 1)
    within = (kernel_sum(z, z) - n) / pairs + (kernel_sum(prior, prior) - n) / pairs
    return within - 2 * kernel_sum(z, prior) / (n * n)


class Wasserstein(AE):
    """The `wasserstein` family: BCE + 10 * MMD between the codes and as many N(0, I) draws
    (crates/models/src/families/wasserstein.rs)."""

    def __init__(self, weight=10.0):
        super().__init__(dense_encoder(DENSE_ENC), identity_bottleneck, dense_decoder(DENSE_DEC))
        self.weight = weight

    def loss(self, x):
        z = self.encoder(x)
        recon = self.decoder(z)
        bce = F.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0]
        return bce + self.weight * imq_mmd(z, torch.randn_like(z))


class Adversarial(AE):
    """The `adversarial` family (crates/models/src/families/adversarial.rs): a discriminator
    latent-256-256-1 (ReLUs) tells the codes from N(0, I) draws. A step is two updates, each
    with its own Adam: the autoencoder on BCE + BCE(D(z), prior); then the discriminator on
    BCE(D(prior draws), 1) + BCE(D(z), 0) with the step's codes."""

    def __init__(self, weight=1.0):
        super().__init__(dense_encoder(DENSE_ENC), identity_bottleneck, dense_decoder(DENSE_DEC))
        self.discriminator = nn.Sequential(nn.Linear(LATENT_DIM, 256), nn.ReLU(),
                                           nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1))
        self.weight = weight

    def verdict(self, z, label):
        logits = self.discriminator(z)
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))

    def optimizers(self):
        autoencoder = list(self.encoder.parameters()) + list(self.decoder.parameters())
        return (torch.optim.Adam(autoencoder, lr=1e-3),
                torch.optim.Adam(self.discriminator.parameters(), lr=1e-3))

    def train_step(self, x, optimizers):
        autoencoder, critic = optimizers
        autoencoder.zero_grad(set_to_none=True)
        z = self.encoder(x)
        recon = self.decoder(z)
        loss = (F.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0]
                + self.weight * self.verdict(z, 1.0))
        loss.backward()
        autoencoder.step()
        critic.zero_grad(set_to_none=True)
        codes = z.detach()
        (self.verdict(torch.randn_like(codes), 1.0) + self.verdict(codes, 0.0)).backward()
        critic.step()
        return loss


def conv_autoencoder():
    """The `conv` family: 32x32 input, conv 1-48-96-192 (kernel 4, stride 2, padding 1, ReLU),
    linear 3072-20; linear 20-3072 (ReLU), transposed conv 192-96-48-1 (ReLU but the last)."""
    def down(a, b):
        return [nn.Conv2d(a, b, 4, 2, 1), nn.ReLU()]

    def up(a, b, relu=True):
        return [nn.ConvTranspose2d(a, b, 4, 2, 1)] + ([nn.ReLU()] if relu else [])
    encoder = nn.Sequential(nn.Unflatten(1, (1, 32, 32)), *down(1, 48), *down(48, 96),
                            *down(96, 192), nn.Flatten(), nn.Linear(3072, LATENT_DIM))
    decoder = nn.Sequential(nn.Linear(LATENT_DIM, 3072), nn.ReLU(), nn.Unflatten(1, (192, 4, 4)),
                            *up(192, 96), *up(96, 48), nn.ConvTranspose2d(48, 1, 4, 2, 1),
                            nn.Flatten(), nn.Sigmoid())
    return AE(encoder, identity_bottleneck, decoder)


def build(variant):
    if variant == "shallow":
        return AE(nn.Sequential(nn.Linear(INPUT_DIM, LATENT_DIM), nn.ReLU()), identity_bottleneck,
                  nn.Sequential(nn.Linear(LATENT_DIM, INPUT_DIM), nn.Sigmoid()))
    if variant == "vanilla":
        return AE(dense_encoder(DENSE_ENC), identity_bottleneck, dense_decoder(DENSE_DEC))
    if variant == "denoising":
        return AE(dense_encoder(DENSE_ENC), identity_bottleneck, dense_decoder(DENSE_DEC),
                  noise_ratio=0.5)
    if variant == "sparse":
        return AE(dense_encoder(DENSE_ENC), sparse_bottleneck, dense_decoder(DENSE_DEC))
    if variant in ("vae", "beta_vae_strict", "beta_vae_loose"):
        beta = {"vae": 1.0, "beta_vae_strict": 2.0, "beta_vae_loose": 0.5}[variant]
        return AE(dense_encoder(VAE_ENC), make_vae_bottleneck(beta), dense_decoder(DENSE_DEC))
    if variant == "vq":
        return AE(dense_encoder(DENSE_ENC), VQBottleneck(), dense_decoder(DENSE_DEC))
    if variant == "stacked":
        return StackedStage(3)
    if variant == "stacked_stage1":
        return StackedStage(1)
    if variant == "tied":
        return Tied()
    if variant == "contractive":
        return Contractive()
    if variant == "k_sparse":
        return KSparse()
    if variant == "wasserstein":
        return Wasserstein()
    if variant == "adversarial":
        return Adversarial()
    if variant == "conv":
        return conv_autoencoder()
    raise ValueError("unknown variant %r" % variant)


# ------------------------------------------------------------------ timing

def make_step(model, opt):
    """One training step; a model with optimizers of its own (adversarial) runs its own."""
    if hasattr(model, "train_step"):
        optimizers = model.optimizers()
        return lambda x: model.train_step(x, optimizers)

    def step(x):
        opt.zero_grad(set_to_none=True)
        loss = model.loss(x)
        loss.backward()
        opt.step()
        return loss
    return step


def time_variant(variant, data, args):
    torch.manual_seed(args.seed)
    model = build(variant)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    step = make_step(model, opt)
    nb = data.shape[0]
    it = 0
    for _ in range(args.warmup):
        step(data[it % nb]); it += 1
    best = None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = step(data[it % nb]); it += 1
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    if not torch.isfinite(loss):
        print("WARNING: %s loss is not finite: %s" % (variant, loss.item()), file=sys.stderr)
    return best / args.steps, loss.item()


def time_phases(variant, data, args):
    """Per-step phase times (s): zero_grad+forward+loss, backward, optimizer.step."""
    torch.manual_seed(args.seed)
    model = build(variant)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    step = make_step(model, opt)
    nb = data.shape[0]
    it = 0
    for _ in range(args.warmup):
        step(data[it % nb]); it += 1
    n = args.steps * args.repeats
    fwd = bwd = upd = 0.0
    for _ in range(n):
        x = data[it % nb]; it += 1
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model.loss(x)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        fwd += t1 - t0; bwd += t2 - t1; upd += t3 - t2
    return fwd / n, bwd / n, upd / n


def loaded_blas_libs():
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                name = os.path.basename(path)
                if any(k in name for k in ("blas", "lapack", "mkl", "gomp", "iomp")):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def cpu_busy_seconds():
    """(system-wide busy CPU seconds, this process's CPU seconds), Linux only."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    t = os.times()
    return busy, t.user + t.system


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main(args):
    torch.set_num_threads(args.threads)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in variants:
        if v not in VARIANTS + EXTRA_VARIANTS:
            sys.exit("unknown variant %r" % v)

    print("# PyTorch training-step benchmark (ae-bakeoff variants)")
    print("python %s" % sys.version.split()[0])
    print("torch %s" % torch.__version__)
    print("torch.get_num_threads() = %d (os.cpu_count() = %s)" % (torch.get_num_threads(), os.cpu_count()))
    print("CPU: %s" % cpu_model())
    cfg = torch.__config__.show().strip().splitlines()
    print("torch.__config__.show() (first lines):")
    for line in cfg[:8]:
        print("    " + line.strip()[:200])
    blas_info = re.findall(r"\b(?:BLAS_INFO|LAPACK_INFO|USE_MKLDNN|USE_OPENMP)=[^,\s]*", "\n".join(cfg))
    if blas_info:
        print("build: " + ", ".join(blas_info))
    print("batch %d, warmup %d, %d timed steps x %d repeats (best repeat reported)"
          % (args.batch, args.warmup, args.steps, args.repeats))

    g = torch.Generator().manual_seed(args.seed)
    data = torch.rand(8, args.batch, INPUT_DIM, generator=g)
    # One tiny matmul so the BLAS library is mapped before we look for it.
    torch.mm(data[0][:4], data[0][:4].t())
    libs = loaded_blas_libs()
    print("loaded BLAS/OpenMP libraries: %s" % (", ".join(libs) if libs else "(none found)"))
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    print()

    busy0, wall0 = cpu_busy_seconds(), time.perf_counter()
    rows = []
    for v in variants:
        sec, loss = time_variant(v, data, args)
        rows.append((v, args.batch / sec, sec * 1e3, EPOCH_SAMPLES / (args.batch / sec), loss))
        print("  %-16s %9.0f samples/s  (%.2f ms/step, loss %.2f)" % (v, rows[-1][1], rows[-1][2], loss),
              flush=True)

    # A model with a step of its own (two optimizers) has no single forward/backward split.
    phase_variants = {"vanilla": ["vanilla"], "all": variants, "none": []}[args.phases]
    phase_variants = [v for v in phase_variants if not hasattr(build(v), "train_step")]
    phases = [(v,) + time_phases(v, data, args) for v in phase_variants]
    busy1, wall1 = cpu_busy_seconds(), time.perf_counter()
    print()
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    if busy0 and busy1:
        other = (busy1[0] - busy0[0]) - (busy1[1] - busy0[1])
        print("other processes used %.2f cores on average during the %.0f s measurement"
              % (max(other, 0.0) / (wall1 - wall0), wall1 - wall0))
    print()
    print("| variant | samples/s | ms/step | s/epoch (55k) |")
    print("|---|---:|---:|---:|")
    for v, sps, ms, ep, _ in rows:
        print("| %s | %.0f | %.2f | %.2f |" % (v, sps, ms, ep))
    if phases:
        print()
        print("Phase times per step (ms; forward includes zero_grad and loss):")
        print()
        print("| variant | forward | backward | optimizer | sum |")
        print("|---|---:|---:|---:|---:|")
        for v, f, b, u in phases:
            print("| %s | %.2f | %.2f | %.2f | %.2f |" % (v, f * 1e3, b * 1e3, u * 1e3, (f + b + u) * 1e3))


if __name__ == "__main__":
    main(ARGS)
