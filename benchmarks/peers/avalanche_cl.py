"""Comparison 1: Avalanche's Naive and EWC against ntkbench's forgetting methods `sgd` and `ewc`.

The same work on both sides, in one process: permuted Fashion-MNIST built by ntkbench's own
stream code (the same arrays and permutations, handed to Avalanche as tensors: no download), the
MLP 784-256-256-10 ReLU starting from the SAME weights (each seed's Flax parameters exported to
torch), plain SGD lr 0.01, batch 10, 1 epoch per task, the test accuracy matrix R and the
untrained accuracies b turned into ACC / BWT / forgetting by ntkbench's `forgetting_metrics`.

EWC: ntkbench's penalty is λ/2 Σ A (θ − θ*)² with λ = 100, A the accumulated diagonal Fisher,
θ* the latest parameters; Avalanche's `EWC(mode="online", decay_factor=1)` is the same recursion
(importances summed, anchored at the latest parameters) with the penalty λ' Σ I (θ − θ*)², so
λ' = λ/2 = 50 writes the same objective. The Fisher estimates differ by design (see README.md):
Avalanche squares the gradient of each minibatch's MEAN loss over the whole task with the true
labels; ntkbench averages squared per-example gradients of labels sampled from the model.

Time: ntkbench runs its seeds as one vmapped program (how a user runs it), so its time per seed is
the whole run (compile included) ÷ seeds; Avalanche runs each seed in turn.

    .venv-peers/bin/python benchmarks/peers/avalanche_cl.py [--tasks 10] [--train-examples 10000] [--seeds 3]
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import torch
from _common import Stopwatch, comparison_line, machine, mean_std, torch_threads, versions
from avalanche.benchmarks.scenarios.deprecated.generators import tensors_benchmark
from avalanche.evaluation.metrics import accuracy_metrics
from avalanche.training.plugins import EvaluationPlugin
from avalanche.training.supervised import EWC, Naive

from ntkbench.data import load_dataset
from ntkbench.engine.seeds import seed_keys
from ntkbench.registry import get_method
from ntkbench.tasks.base import RunContext
from ntkbench.tasks.forgetting.contract import StreamInfo
from ntkbench.tasks.forgetting.metrics import forgetting_metrics
from ntkbench.tasks.forgetting.task import METHOD_TAG, TASK

LR, BATCH, EPOCHS, EWC_LAMBDA = 0.01, 10, 1, 100.0


def ntkbench_run(ds, budget, method: str, params: dict, seeds: int, root_seed: int):
    """(R (S, T, T), b (S, T), Stopwatch, compile seconds) of one ntkbench run, seeds vmapped."""
    ctx = RunContext(
        method=get_method(method, "forgetting"),
        dataset=ds,
        params=params,
        budget=budget,
        seeds=seeds,
        root_seed=root_seed,
        vmap_seeds=True,
    )
    with Stopwatch() as sw:
        out = TASK.run(ctx)
    R = np.asarray(out.metrics["acc_matrix"]["per_seed"])
    b = np.asarray(out.metrics["acc_init"]["per_seed"])
    return R, b, sw, ctx.timing.compile_seconds


def initial_params(stream, budget, method: str, params: dict, seeds: int, root_seed: int) -> list[dict]:
    """Each seed's initial Flax parameters exactly as the harness draws them (same keys)."""
    t0 = stream.tasks[0]
    info = StreamInfo(
        input_shape=tuple(t0.input_shape),
        num_classes=stream.num_classes,
        num_tasks=stream.num_tasks,
        setting=stream.setting,
        epochs=budget.epochs,
        batch_size=budget.batch_size,
        max_train_per_task=max(len(t.y_train) for t in stream),
        task_id_at_test=False,
    )
    learner = get_method(method, "forgetting").fn(info, **params)
    keys = seed_keys(root_seed, seeds, METHOD_TAG, 0)
    return [learner.init(keys[s])["params"] for s in range(seeds)]


def torch_mlp(flax_params) -> torch.nn.Module:
    """The same MLP in torch, with the Flax weights (kernel (in, out) -> weight (out, in))."""
    layers = [*flax_params["dense"].values(), flax_params["readout"]]
    mods: list[torch.nn.Module] = []
    for i, layer in enumerate(layers):
        kernel = np.asarray(layer["kernel"][...])
        lin = torch.nn.Linear(*kernel.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(kernel.T.copy()))
            lin.bias.copy_(torch.from_numpy(np.asarray(layer["bias"][...]).copy()))
        mods += [lin] if i == len(layers) - 1 else [lin, torch.nn.ReLU()]
    return torch.nn.Sequential(*mods)


def avalanche_benchmark(stream):
    flat = lambda x: torch.from_numpy(np.asarray(x, np.float32).reshape(len(x), -1))
    label = lambda y: torch.from_numpy(np.asarray(y, np.int64))
    return tensors_benchmark(
        train_tensors=[(flat(t.x_train), label(t.y_train)) for t in stream],
        test_tensors=[(flat(t.x_test), label(t.y_test)) for t in stream],
        task_labels=[0] * stream.num_tasks,  # domain-incremental: no task id
    )


def _accuracies(results: dict, T: int) -> np.ndarray:
    """Avalanche's per-experience test accuracies (0..1) -> percent, in experience order."""
    acc = np.full(T, np.nan)
    for key, value in results.items():
        m = re.match(r"Top1_Acc_Exp/eval_phase/test_stream/Task\d+/Exp(\d+)$", key)
        if m:
            acc[int(m.group(1))] = 100.0 * value
    return acc


def avalanche_seed(bm, flax_params, method: str, seed: int, ewc_lambda: float = EWC_LAMBDA / 2):
    """(R (T, T), b (T,), Stopwatch, trained model) of one Avalanche run from the given initial weights."""
    torch.manual_seed(seed)
    T = len(bm.train_stream)
    with Stopwatch() as sw:
        model = torch_mlp(flax_params)
        common = dict(
            model=model,
            optimizer=torch.optim.SGD(model.parameters(), lr=LR),
            criterion=torch.nn.CrossEntropyLoss(),
            train_mb_size=BATCH,
            train_epochs=EPOCHS,
            eval_mb_size=1000,
            evaluator=EvaluationPlugin(accuracy_metrics(experience=True), loggers=[]),
        )
        if method == "sgd":
            strategy = Naive(**common)
        else:
            strategy = EWC(**common, ewc_lambda=ewc_lambda, mode="online", decay_factor=1.0)
        b = _accuracies(strategy.eval(bm.test_stream), T)
        R = np.full((T, T), np.nan)
        for t, experience in enumerate(bm.train_stream):
            strategy.train(experience)
            R[t] = _accuracies(strategy.eval(bm.test_stream), T)
    return R, b, sw, model


def fisher_ratio(model: torch.nn.Module, experience, batch: int) -> float:
    """Avalanche's EWC importance ÷ the per-example empirical Fisher (same labels, same data), summed
    over all parameters: Avalanche squares minibatch-MEAN gradients, so ≈ 1/batch once the mean
    gradient is small (ContinualAI/avalanche#1224: "computed in mini-batches, not one sample at a time")."""
    from avalanche.training.plugins import EWCPlugin
    from torch.func import functional_call, grad, vmap

    loss_fn = torch.nn.CrossEntropyLoss()
    # the first 1000 examples: per-example gradients of all of them are held at once (1 GB here)
    data = experience.dataset.subset(range(min(1000, len(experience.dataset))))
    plugin = EWCPlugin(ewc_lambda=1.0)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    imp = plugin.compute_importances(model, loss_fn, opt, data, "cpu", batch)
    x = torch.stack([data[i][0] for i in range(len(data))])
    y = torch.tensor([int(data[i][1]) for i in range(len(data))])
    params = {k: v.detach() for k, v in model.named_parameters()}
    one = lambda p, xi, yi: loss_fn(functional_call(model, p, (xi[None],)), yi[None])
    per_example = vmap(grad(one), in_dims=(None, 0, 0))(params, x, y)
    fisher = sum(float((g**2).mean(0).sum()) for g in per_example.values())
    return sum(float(v.data.sum()) for v in imp.values()) / fisher


def check_same_function(stream, flax_params) -> float:
    """Largest |logit difference| of the exported torch MLP against the Flax network at init."""
    from flax import nnx

    from ntkbench import models

    x = np.asarray(stream.tasks[0].x_test[:256], np.float32)
    arch = models.mlp(stream.num_classes, (256, 256))
    graphdef = nnx.graphdef(models.Network(arch, x.shape[1:], rngs=nnx.Rngs(0)))
    flax_logits = np.asarray(nnx.merge(graphdef, flax_params)(x))
    with torch.no_grad():
        torch_logits = torch_mlp(flax_params)(torch.from_numpy(x.reshape(len(x), -1))).numpy()
    return float(np.abs(flax_logits - torch_logits).max())


def summarise(Rs, bs) -> dict[str, list[float]]:
    per_seed = [forgetting_metrics(R, b) for R, b in zip(Rs, bs)]
    return {k: [p[k] for p in per_seed] for k in ("ACC", "forgetting", "BWT", "LA")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=10, help="the suite's 10")
    ap.add_argument("--train-examples", type=int, default=10000, help="class-balanced training subset (suite's)")
    ap.add_argument("--test-examples", type=int, default=2000, help="first test examples (suite's)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--root-seed", type=int, default=0)
    ap.add_argument("--methods", default="sgd,ewc")
    ap.add_argument(
        "--avalanche-ewc-lambda",
        type=float,
        default=EWC_LAMBDA / 2,
        help="Avalanche's λ' (default λ/2, the same objective; x batch size compensates its minibatch importances)",
    )
    args = ap.parse_args()

    # 1 thread: a batch-10 MLP step is too small to split, and 2 threads on 2 shared cores spin-wait
    # (measured: Naive 2.1 s CPU per seed on 1 thread, 7.8-34 s on 2 at load 4-6)
    threads = torch_threads(default=1)
    print(f"machine: {machine()}; torch threads {threads}")
    print("versions:", versions("torch", "avalanche", "jax", "flax", "optax", "ntkbench"))
    ds = load_dataset("fashion_mnist")
    budget = TASK.typed_budget(
        "fashion_mnist",
        {
            "stream": "permuted",
            "num_tasks": args.tasks,
            "epochs": EPOCHS,
            "batch_size": BATCH,
            "train_examples": args.train_examples,
            "test_examples": args.test_examples,
            "ntk_view": False,  # Avalanche has no NTK view: time the same work only
        },
    )
    stream = TASK.build_stream(ds, budget, args.root_seed)
    bm = avalanche_benchmark(stream)
    work = (
        f"permuted Fashion-MNIST, {args.tasks} tasks x {args.train_examples} train / {args.test_examples} test, "
        f"MLP 2x256, SGD lr {LR}, batch {BATCH}, {EPOCHS} epoch, {args.seeds} seeds"
    )
    print("work:", work)

    for method in args.methods.split(","):
        params = {"lr": LR} | ({"ewc_lambda": EWC_LAMBDA, "anchor": "latest"} if method == "ewc" else {})
        inits = initial_params(stream, budget, method, params, args.seeds, args.root_seed)
        print(f"[{method}] torch MLP vs Flax at init: max |logit diff| {check_same_function(stream, inits[0]):.2e}")
        # interleaved: ntkbench (all seeds, one vmapped program), then Avalanche seed by seed
        R_nb, b_nb, sw, compile_s = ntkbench_run(ds, budget, method, params, args.seeds, args.root_seed)
        print(
            f"[{method}] ntkbench: {sw.seconds:.1f} s wall, {sw.cpu_seconds:.1f} s CPU for {args.seeds} seeds "
            f"({compile_s:.1f} s compile), load {sw.load_before}",
            flush=True,
        )
        Rs_av, bs_av, walls, cpus = [], [], [], []
        for s in range(args.seeds):
            R, b, t, model = avalanche_seed(bm, inits[s], method, args.root_seed * 1000 + s, args.avalanche_ewc_lambda)
            Rs_av.append(R)
            bs_av.append(b)
            walls.append(t.seconds)
            cpus.append(t.cpu_seconds)
            print(
                f"[{method}] avalanche seed {s}: {t.seconds:.1f} s wall, {t.cpu_seconds:.1f} s CPU, "
                f"ACC {forgetting_metrics(R, b)['ACC']:.2f}, load {t.load_before}",
                flush=True,
            )
        if method == "ewc":  # on the last seed's trained network and the last task's data
            ratio = fisher_ratio(model, bm.train_stream[len(bm.train_stream) - 1], BATCH)
            print(f"[ewc] Avalanche importance / per-example empirical Fisher: {ratio:.3f} (batch {BATCH})")
        nb_m, av_m = summarise(R_nb, b_nb), summarise(Rs_av, bs_av)
        numbers = {k: f"avalanche {mean_std(av_m[k])} vs ntkbench {mean_std(nb_m[k])}" for k in nb_m}
        numbers["CPU s per seed"] = f"avalanche {np.mean(cpus):.1f} vs ntkbench {sw.cpu_seconds / args.seeds:.1f}"
        numbers["ntkbench compile s (all seeds)"] = f"{compile_s:.1f}"
        ewc_name = f"EWC(online, decay 1, lambda {args.avalanche_ewc_lambda:g})"
        peer = "Avalanche " + ("Naive" if method == "sgd" else ewc_name)
        line = comparison_line(
            f"forgetting {method}: {work}", peer, float(np.mean(walls)), sw.seconds / args.seeds, numbers
        )
        print(line, flush=True)


if __name__ == "__main__":
    main()
