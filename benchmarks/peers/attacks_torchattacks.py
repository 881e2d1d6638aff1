"""ntkbench's attacks against torchattacks (PGD, APGD-CE) on the same trained weights.

    .venv-peers/bin/python benchmarks/peers/attacks_torchattacks.py            # full comparison
    .venv-peers/bin/python benchmarks/peers/attacks_torchattacks.py --n 200 --repeats 1   # smoke

Issue #31, comparison 2. The `adversarial` task's `standard` method is trained on Fashion-MNIST
(its own method function, default parameters unless --steps), its Flax NNX weights are copied into
an equivalent PyTorch module (the logits are checked to agree first), and on the first --n test
points at the task's threat point (L∞, eps 0.1, box [0, 1]) both libraries run the task's attack
settings (`attack_settings` of `ntkbench/tasks/adversarial/task.py`):
  - PGD: 50 steps of 2.5·eps/50 from a uniform random start, 1 restart (torchattacks.PGD has no
    restarts; the task's default is 1);
  - APGD-CE: 100 iterations, 1 restart, rho 0.75 (torchattacks.APGD, loss "ce").
Both sides attack in batches of the task's `attack_batch` (500; --batch), torch on --torch-threads
(default 1: see the option), in one process, interleaved:
each repeat runs ntkbench then torchattacks on the same points, with a new seed per repeat. The
first ntkbench call of each attack compiles (reported as "cold"); the timed repeats are warm.
ntkbench is timed through `evaluate_attacks` (the task's path: clean diagnostics and the bounds
check of every adversarial example included); torchattacks through its attack call plus the
forward pass that scores the result. Robust accuracy = correct clean and at the attack's output.
Every torchattacks output is also checked against the threat model (outside the timing).

Semantics that differ by design (not defects): ntkbench's PGD keeps the first misclassified
iterate (any fooling iterate counts), torchattacks' PGD returns the last iterate, so ntkbench's
PGD can only be lower; torchattacks' APGD attacks only the points correct at the clean input.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import platform
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from _common import comparison_line, mean_std  # benchmarks/peers/_common.py
from flax import nnx

from ntkbench.attacks import evaluate_attacks
from ntkbench.data import load_dataset
from ntkbench.engine.seeds import seed_keys
from ntkbench.engine.train import Split
from ntkbench.methods.adversarial import CNNTraining
from ntkbench.models import Network, convnet
from ntkbench.registry import get_method
from ntkbench.tasks.adversarial.budget import Budget
from ntkbench.tasks.adversarial.task import (
    ATTACK_TAG,
    ATTACKS,
    METHOD_TAG,
    attack_settings,
    logits_fn_of,
    resolve_threat,
)

PEER_ATTACKS = ("pgd", "apgd-ce")
PEER_LABEL = {"pgd": "PGD", "apgd-ce": "APGD(loss='ce')"}


# -- the trained network, in Flax NNX and in PyTorch ------------------------------------------------
def train_standard(ds, threat, steps: int | None, root_seed: int):
    """The `standard` method's trained network (seed 0 of `root_seed`, the task's method key)."""
    spec = get_method("standard", "adversarial")
    train = Split(jnp.asarray(ds.x_train), jnp.asarray(ds.y_train, jnp.int32), ds.num_classes)
    params = {} if steps is None else {"steps": steps}
    t0 = time.perf_counter()
    clf = spec.fn(seed_keys(root_seed, 1, METHOD_TAG)[0], train, threat, **params)
    jax.block_until_ready(jax.tree.leaves(nnx.state(clf.model)))
    return clf.model, time.perf_counter() - t0


def save_weights(model, path: str) -> None:
    leaves = jax.tree_util.tree_leaves_with_path(nnx.state(model, nnx.Param))
    np.savez(path, **{jax.tree_util.keystr(k): np.asarray(v) for k, v in leaves})


def load_weights(ds, path: str):
    """The `standard` network (default architecture) with the weights saved by `save_weights`."""
    arch = convnet(
        ds.num_classes,
        CNNTraining.widths,
        kernel_size=CNNTraining.kernel_size,
        stride=CNNTraining.stride,
        dense=CNNTraining.dense,
        pool=CNNTraining.pool,
    )
    model = Network(arch, ds.x_train.shape[1:], rngs=nnx.Rngs(0))
    graphdef, state, rest = nnx.split(model, nnx.Param, ...)
    saved = np.load(path)
    names = [jax.tree_util.keystr(k) for k, _ in jax.tree_util.tree_leaves_with_path(state)]
    if sorted(names) != sorted(saved.files):
        raise ValueError(f"{path} holds {sorted(saved.files)}, the network has {sorted(names)}")
    state = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(state), [jnp.asarray(saved[n]) for n in names])
    return nnx.merge(graphdef, state, rest)


def torch_module(model):
    """A torch.nn.Module computing the same function as the NNX `Network` `model` on NCHW input.

    Only what `standard` builds is supported (conv stack with SAME padding and ReLU, flatten, dense
    ReLU layers, readout; standard parameterisation, so every layer is x @ W + b)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    arch = model.arch
    if (arch.kind, arch.parameterization, arch.activation, arch.norm, arch.pool, arch.readout) != (
        "conv",
        "standard",
        "relu",
        None,
        None,
        "flatten",
    ):
        raise ValueError(f"no PyTorch export for {arch}")
    if any(layer.impl not in ("patches", "lax") for layer in model.convs):
        raise ValueError("unknown conv implementation")

    def same_pads(size: int, k: int, s: int) -> tuple[int, int]:
        out = -(-size // s)  # the SAME rule of ntkbench.models._same_pads / XLA
        total = max((out - 1) * s + k - size, 0)
        return total // 2, total - total // 2

    def tensor(a):
        return torch.from_numpy(np.array(a, dtype=np.float32))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList()
            for layer in model.convs:
                w = tensor(layer.kernel[...]).permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
                conv = nn.Conv2d(w.shape[1], w.shape[0], arch.kernel_size, stride=arch.stride)
                conv.weight.data.copy_(w)
                conv.bias.data.copy_(tensor(layer.bias[...]))
                self.convs.append(conv)
            self.dense = nn.ModuleList()
            for layer in [*model.dense, model.readout]:
                w = tensor(layer.kernel[...]).T  # (in, out) -> (out, in)
                lin = nn.Linear(w.shape[1], w.shape[0])
                lin.weight.data.copy_(w)
                lin.bias.data.copy_(tensor(layer.bias[...]))
                self.dense.append(lin)

        def forward(self, x):  # x: (B, C, H, W)
            for conv in self.convs:
                ph = same_pads(x.shape[2], arch.kernel_size, arch.stride)
                pw = same_pads(x.shape[3], arch.kernel_size, arch.stride)
                x = F.relu(conv(F.pad(x, (pw[0], pw[1], ph[0], ph[1]))))
            x = x.permute(0, 2, 3, 1).flatten(1)  # flatten in the NNX model's (H, W, C) order
            for lin in self.dense[:-1]:
                x = F.relu(lin(x))
            return self.dense[-1](x)

    return CNN().eval()


def nchw(x):
    import torch

    return torch.from_numpy(np.array(np.asarray(x).transpose(0, 3, 1, 2), copy=True))


# -- one attack, each side ----------------------------------------------------------------------------
def run_suite(names, setup, threat, key):
    """ntkbench's attacks `names` with the task's settings: (seconds, the report)."""
    t0 = time.perf_counter()
    rep = evaluate_attacks(
        setup.fn,
        setup.x,
        setup.y,
        threat,
        key,
        attacks=tuple(names),
        batch_size=setup.batch,
        attack_kwargs={a: setup.settings[a] for a in names if a in setup.settings},
    )
    return time.perf_counter() - t0, rep


def run_ntkbench(name, setup, threat, key):
    seconds, rep = run_suite((name,), setup, threat, key)
    return seconds, rep.correct[name]


def make_torch_attack(name, tmodel, threat, settings, seed):
    import torchattacks

    eps = float(threat.eps)
    if name == "pgd":
        s = settings["pgd"]
        alpha = s.get("step_size", 2.5 * eps / s["steps"])  # the task's default step
        if s["restarts"] != 1:
            raise ValueError("torchattacks.PGD has no restarts")
        return torchattacks.PGD(tmodel, eps=eps, alpha=alpha, steps=s["steps"], random_start=s["random_start"])
    s = settings["apgd-ce"]
    return torchattacks.APGD(
        tmodel, norm="Linf", eps=eps, steps=s["n_iter"], n_restarts=s["restarts"], seed=seed, loss="ce", rho=0.75
    )


def run_torch(name, setup, threat, seed):
    """(seconds, per-point correct (N,), adversarial inputs NCHW)."""
    import torch

    torch.manual_seed(seed)  # PGD's random start draws from the global generator
    t0 = time.perf_counter()
    atk = make_torch_attack(name, setup.tmodel, threat, setup.settings, seed)
    advs, correct = [], []
    for start in range(0, len(setup.yt), setup.batch):
        xb, yb = setup.xt[start : start + setup.batch], setup.yt[start : start + setup.batch]
        adv = atk(xb, yb)
        with torch.no_grad():
            correct.append(((setup.tmodel(xb).argmax(1) == yb) & (setup.tmodel(adv).argmax(1) == yb)).numpy())
        advs.append(adv.detach())
    return time.perf_counter() - t0, np.concatenate(correct), torch.cat(advs)


# -- the comparison ----------------------------------------------------------------------------------
def profile_passes(setup, batches=(100, 500), repeats=3):
    """Where the attacks' time goes: one forward + backward pass of the loss (the work of one
    attack step) on the test points, in batches of each size, both sides, interleaved."""
    import torch
    import torch.nn.functional as F

    from ntkbench.attacks._common import loss_logits_grad
    from ntkbench.attacks.losses import cross_entropy

    step = jax.jit(lambda fn, x, y: loss_logits_grad(fn, cross_entropy, x, y)[2])

    def ntk(b):
        for i in range(0, len(setup.y), b):
            step(setup.fn, setup.x[i : i + b], setup.y[i : i + b]).block_until_ready()

    def peer(b):
        for i in range(0, len(setup.y), b):
            xa = setup.xt[i : i + b].clone().requires_grad_()
            torch.autograd.grad(F.cross_entropy(setup.tmodel(xa), setup.yt[i : i + b], reduction="sum"), xa)

    for b in batches:
        ntk(b)  # compile
    for r in range(repeats):
        row = []
        for b in batches:
            for name, f in (("ntkbench", ntk), ("torch", peer)):
                t0 = time.perf_counter()
                f(b)
                row.append(f"{name} {1000 * (time.perf_counter() - t0):.0f} ms at batch {b}")
        print(f"# fwd+bwd of {len(setup.y)} points, repeat {r}: {', '.join(row)}; load {os.getloadavg()[0]:.1f}")


@dataclasses.dataclass
class Setup:
    """The same work for both sides: the network both ways, the test points both ways."""

    fn: object  # the NNX model as ntkbench's logits function
    tmodel: object  # the exported torch.nn.Module
    x: jax.Array  # (N, 28, 28, 1)
    y: jax.Array
    xt: object  # the same points, NCHW torch tensors
    yt: object
    clean_correct: np.ndarray
    settings: dict
    batch: int


def check_peer_output(setup, threat, adv, correct, label):
    """torchattacks' outputs lie in the threat model and the NNX model scores them the same."""
    adv_nhwc = jnp.asarray(adv.numpy().transpose(0, 2, 3, 1))
    inside = np.asarray(threat.contains(adv_nhwc, setup.x))
    jax_correct = (np.asarray(setup.fn(adv_nhwc)).argmax(1) == np.asarray(setup.y)) & setup.clean_correct
    flips = int(np.sum(jax_correct != correct))
    if not inside.all() or flips > 1:
        print(f"#   {label}: {int((~inside).sum())} outputs outside the threat model, {flips} scored differently")


def compare(setup, threat, keys, threads, repeats, suite, cold):
    import torch

    eps = float(threat.eps)
    times, corrects = collections.defaultdict(list), collections.defaultdict(list)
    if not cold:  # the first call: compilation for ntkbench, first-call set-up for torch
        torch.set_num_threads(threads[0])
        for a in PEER_ATTACKS:
            cold[("ntk", a)] = run_ntkbench(a, setup, threat, keys[-1])[0]
            cold[("peer", a)] = run_torch(a, setup, threat, 10_000)[0]
    for r in range(repeats):
        for a in PEER_ATTACKS:
            s, c = run_ntkbench(a, setup, threat, keys[r])
            times[("ntk", a)].append(s)
            corrects[("ntk", a)].append(c)
            for t in threads:
                torch.set_num_threads(t)
                s, c, adv = run_torch(a, setup, threat, r)
                times[(t, a)].append(s)
                corrects[(t, a)].append(c)
                check_peer_output(setup, threat, adv, c, f"torchattacks {a} eps {eps:g} repeat {r} threads {t}")
            print(
                f"#   eps {eps:g} repeat {r} {a}: ntkbench {times[('ntk', a)][-1]:.2f}s "
                f"{100 * corrects[('ntk', a)][-1].mean():.1f}%; torchattacks "
                + ", ".join(
                    f"{t} thr {times[(t, a)][-1]:.2f}s {100 * corrects[(t, a)][-1].mean():.1f}%" for t in threads
                ),
                file=sys.stderr,
                flush=True,
            )
    print(f"# eps {eps:g} done; uptime: {os.popen('uptime').read().strip()}")
    n = len(setup.clean_correct)
    for a in PEER_ATTACKS:
        ntk = statistics.median(times[("ntk", a)])
        for t in threads:
            numbers = {
                "robust acc % torchattacks": mean_std([100 * c.mean() for c in corrects[(t, a)]]),
                "ntkbench": mean_std([100 * c.mean() for c in corrects[("ntk", a)]]),
                "seeds": str(repeats),
                "ntkbench cold s": f"{cold[('ntk', a)]:.1f}",
            }
            peer = f"torchattacks.{PEER_LABEL[a]} ({t} torch thread{'s' * (t > 1)})"
            work = f"{a} on standard CNN, Fashion-MNIST n={n}, linf eps={eps:g}, batch {setup.batch}, warm median"
            print(comparison_line(work, peer, statistics.median(times[(t, a)]), ntk, numbers))
    worst = {
        side: [100 * np.mean(p & q) for p, q in zip(*(corrects[(side, a)] for a in PEER_ATTACKS))]
        for side in (threads[0], "ntk")
    }
    print(
        f"# per-point worst of pgd, apgd-ce, n={n} eps={eps:g}: torchattacks {mean_std(worst[threads[0]])}, "
        f"ntkbench {mean_std(worst['ntk'])} (% robust, mean ± sd over {repeats} seeds)"
    )
    if suite:
        suite_s, rep = run_suite(ATTACKS, setup, threat, keys[0])
        peer_all = np.logical_and.reduce([c for k, v in corrects.items() if k[0] != "ntk" for c in v])
        missed = int(np.sum(rep.correct["robust"] & ~peer_all))
        print(
            f"# ntkbench's task suite ({', '.join(ATTACKS)}; {suite_s:.1f}s), worst case n={n} eps={eps:g}: "
            f"{rep.accs['robust']:.2f}% robust against {100 * peer_all.mean():.2f}% left by every "
            f"torchattacks run together; fooled by torchattacks but robust to the suite: {missed} points; "
            f"flags: {rep.flags or 'none'}"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="first N test points (task default 1000)")
    ap.add_argument("--eps", default="0.1", help="comma-separated L∞ radii (the task's: 0.1)")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the method's 2000)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, one seed each")
    # 1 thread by default: on the shared 2-core machine torch's default (2 OpenMP threads) ran 8-17x
    # slower than 1 thread (oversubscribed cores); `--torch-threads 2,1` times both.
    ap.add_argument("--torch-threads", default="1", help="comma-separated torch thread counts to time")
    ap.add_argument("--root-seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=None, help="points per attack call, both sides (task: 500)")
    ap.add_argument("--weights", help="an .npz of the trained weights: loaded if it exists, else written")
    ap.add_argument("--export-only", action="store_true", help="train, write --weights and stop (no torch)")
    ap.add_argument("--no-suite", action="store_true", help="skip ntkbench's full-suite worst case")
    ap.add_argument("--profile", action="store_true", help="only time one fwd+bwd pass per batch size")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress as it happens, also through run.py's pipe

    ds = load_dataset("fashion_mnist")
    budget = Budget(eps=0.1, test_points=args.n)
    threat, _ = resolve_threat(ds, budget)
    if args.weights and os.path.exists(args.weights):
        model, trained = load_weights(ds, args.weights), f"loaded from {args.weights}"
    else:
        model, train_s = train_standard(ds, threat, args.steps, args.root_seed)
        trained = f"trained in {train_s:.1f}s"
        if args.weights:
            save_weights(model, args.weights)
    if args.export_only:
        print(f"`standard` {trained}, weights in {args.weights}")
        return

    import torch
    import torchattacks

    threads = [int(t) for t in args.torch_threads.split(",")]
    print(
        f"# {platform.node()} · {os.cpu_count()} CPUs · torch {torch.__version__} (default threads "
        f"{torch.get_num_threads()}) · torchattacks {torchattacks.__version__} · jax {jax.__version__} · "
        f"uptime: {os.popen('uptime').read().strip()}"
    )
    x = jnp.asarray(ds.x_test[: args.n])
    y = jnp.asarray(ds.y_test[: args.n], jnp.int32)
    fn = logits_fn_of(model)
    tmodel = torch_module(model)
    xt, yt = nchw(x), torch.from_numpy(np.asarray(y, np.int64))
    with torch.no_grad():
        tlogits = tmodel(xt).numpy()
    jlogits = np.asarray(jax.jit(lambda f, a: f(a))(fn, x))
    diff = float(np.max(np.abs(tlogits - jlogits)))
    agree = float(np.mean(tlogits.argmax(1) == jlogits.argmax(1)))
    print(
        f"# `standard` {trained}; logits max|Δ| {diff:.2e} (|logit| ≤ {np.abs(jlogits).max():.1f}), "
        f"argmax agreement {agree:.4f}, clean accuracy {100 * np.mean(jlogits.argmax(1) == np.asarray(y)):.1f}%"
    )
    if diff > 1e-4 * max(1.0, float(np.abs(jlogits).max())):
        raise SystemExit(f"the exported PyTorch module disagrees with the NNX model (max|Δ| {diff:.2e})")
    setup = Setup(
        fn,
        tmodel,
        x,
        y,
        xt,
        yt,
        jlogits.argmax(1) == np.asarray(y),
        attack_settings(budget, ds.num_classes),
        min(args.batch or budget.attack_batch, args.n),  # evaluate_attacks' batch for n < batch
    )
    if args.profile:
        torch.set_num_threads(int(args.torch_threads.split(",")[0]))
        profile_passes(setup)
        return
    keys = seed_keys(args.root_seed, args.repeats + 1, ATTACK_TAG)
    cold: dict = {}
    for eps in (float(e) for e in args.eps.split(",")):
        compare(setup, dataclasses.replace(threat, eps=eps), keys, threads, args.repeats, not args.no_suite, cold)


if __name__ == "__main__":
    main()
