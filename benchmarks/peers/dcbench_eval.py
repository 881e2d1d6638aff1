"""Comparison 3: the DC-BENCH evaluation of a distilled set in plain PyTorch against ntkbench's.

The set: 10 images per class of standardised Fashion-MNIST chosen by ntkbench's `random`
distillation method (its seed keys), the same arrays on both sides; test: the first 2 000 test
images by default (the suite's CPU budget; `--test-points 0`: the whole split, the protocol).

Two PyTorch evaluations (one process with ntkbench, interleaved network by network):
- "dc": the protocol as published, from the DC/DSA/DM code that DC-BENCH evaluates with
  (VICO-UoE/DatasetCondensation utils.py `evaluate_synset`, networks.py `ConvNet`): ConvNet-3,
  128 channels, instance norm (GroupNorm(128, 128)), ReLU, 2x2 average pooling, the first
  convolution padded by 3 on 1-channel inputs (28x28 -> 32x32, so a 128x4x4 readout), PyTorch's
  default initialisation; SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch 256, epochs 0..300
  (301 passes), after pass 151 lr x 0.1 with a NEW optimiser (momentum buffer reset); no
  augmentation (DC's `get_daparam` gives strategy 'none' for FashionMNIST's ConvNet).
- "same": ntkbench's network in PyTorch: 'SAME' padding (28 -> 14 -> 7 -> 3, a 128x3x3 readout),
  each network's initial weights exported from ntkbench's (same keys), 300 epochs, lr x 0.1 at
  epoch 150 with the momentum kept (optax's schedule). With 100 images and batch 256 every step is
  the full set, so this is the same computation as ntkbench's: accuracies should agree closely.

Time per network: PyTorch networks run one after another; ntkbench trains its networks as one
vmapped program (how the task runs them), so its time per network is the whole call ÷ networks
(compile included on the first set).

    .venv-peers/bin/python benchmarks/peers/dcbench_eval.py [--networks 1] [--epochs 300] [--test-points 2000]
"""

from __future__ import annotations

import argparse
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import torch
from _common import Stopwatch, comparison_line, machine, mean_std, torch_threads, versions
from torch import nn

from ntkbench import models
from ntkbench.data import load_dataset
from ntkbench.engine.seeds import seed_keys
from ntkbench.engine.train import Split, build
from ntkbench.registry import get_method
from ntkbench.tasks.distillation.evaluation import NetworkEval, eval_archs
from ntkbench.tasks.distillation.task import EVAL_TAG, METHOD_TAG
from ntkbench.tasks.distillation.task import TASK as DISTILLATION

IPC, WIDTH, DEPTH = 10, 128, 3
LR, MOMENTUM, WEIGHT_DECAY, BATCH = 0.01, 0.9, 5e-4, 256


class ConvNet(nn.Module):
    """DC's ConvNet (networks.py) for 1-channel 28x28 inputs; `first_padding` 3 is DC's, 1 is 'SAME'."""

    def __init__(self, num_classes: int, first_padding: int):
        super().__init__()
        layers: list[nn.Module] = []
        channels, size = 1, 28
        for d in range(DEPTH):
            pad = first_padding if d == 0 else 1
            layers += [
                nn.Conv2d(channels, WIDTH, kernel_size=3, padding=pad),
                nn.GroupNorm(WIDTH, WIDTH, affine=True),
                nn.ReLU(inplace=True),
                nn.AvgPool2d(kernel_size=2, stride=2),
            ]
            channels, size = WIDTH, (size + 2 * pad - 2) // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(WIDTH * size * size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


def load_flax_weights(net: ConvNet, params) -> None:
    """ntkbench's ConvNet parameters into the 'SAME' torch ConvNet (HWIO -> OIHW, NHWC readout -> NCHW)."""
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    norms = [m for m in net.features if isinstance(m, nn.GroupNorm)]
    t = lambda a: torch.from_numpy(np.array(a[...], np.float32))  # a writable copy
    with torch.no_grad():
        for conv, norm, c, n in zip(convs, norms, params["convs"].values(), params["norms"].values()):
            conv.weight.copy_(t(c["kernel"]).permute(3, 2, 0, 1))
            conv.bias.copy_(t(c["bias"]))
            norm.weight.copy_(t(n["scale"]))
            norm.bias.copy_(t(n["bias"]))
        k = np.asarray(params["readout"]["kernel"][...])  # rows in (h, w, c) order
        side = int(round((k.shape[0] / WIDTH) ** 0.5))
        k = k.reshape(side, side, WIDTH, -1).transpose(2, 0, 1, 3).reshape(k.shape[0], -1)
        net.classifier.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
        net.classifier.bias.copy_(t(params["readout"]["bias"]))


def logit_gap(net: ConvNet, flax_params, n: int = 64) -> float:
    """Largest |logit difference| of the torch ConvNet against ntkbench's on n test images."""
    from flax import nnx

    ds = load_dataset("fashion_mnist")
    x = np.asarray(ds.x_test[:n], np.float32)
    arch = eval_archs(ds.num_classes, DISTILLATION.typed_budget("fashion_mnist", {}))["convnet"]
    graphdef = nnx.graphdef(models.Network(arch, x.shape[1:], rngs=nnx.Rngs(0)))
    ours = np.asarray(nnx.merge(graphdef, flax_params)(x))
    net.eval()
    with torch.no_grad():
        theirs = net(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()).numpy()
    return float(np.abs(ours - theirs).max())


def test_accuracy(net: nn.Module, x_test: torch.Tensor, y_test: torch.Tensor) -> float:
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y_test), BATCH):  # DC's test loader: batch 256
            correct += int((net(x_test[i : i + BATCH]).argmax(-1) == y_test[i : i + BATCH]).sum())
    return 100.0 * correct / len(y_test)


def train_dc(net: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    """DC's evaluate_synset loop: epochs + 1 passes, lr x 0.1 after pass epochs//2 + 1, new optimiser."""
    lr = LR
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    for ep in range(epochs + 1):
        for xb, yb in loader:
            loss = loss_fn(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if ep == epochs // 2 + 1:
            lr *= 0.1
            opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)


def train_same(net: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    """ntkbench's schedule: `epochs` passes (last incomplete batch dropped), lr x 0.1 at epochs//2, momentum kept."""
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    batch = min(BATCH, len(y))
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[epochs // 2], gamma=0.1)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(y))
        for i in range(0, len(y) - batch + 1, batch):
            idx = perm[i : i + batch]
            loss = loss_fn(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--networks", type=int, default=1, help="networks per set and per side (protocol: 5)")
    ap.add_argument("--sets", type=int, default=1, help="random sets (ntkbench seeds)")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--root-seed", type=int, default=0)
    ap.add_argument("--variants", default="dc,same", help="which PyTorch evaluations: dc, same")
    ap.add_argument("--test-points", type=int, default=2000, help="first test images (0: all 10 000, the protocol)")
    args = ap.parse_args()

    # 1 thread: on 2 shared cores it was the faster setting measured (the same network: 128 CPU s
    # on 1 thread at load 5, 218 on 2 threads at load 8-10)
    threads = torch_threads(default=1)
    print(f"machine: {machine()}; torch threads {threads}")
    print("versions:", versions("torch", "jax", "flax", "optax", "ntkbench"))
    budget = DISTILLATION.typed_budget(
        "fashion_mnist",
        {
            "ipc": IPC,
            "evaluations": ["convnet"],
            "eval_networks": args.networks,
            "eval_epochs": args.epochs,
            "test_points": args.test_points or None,
        },
    )
    ds = DISTILLATION.prepare(load_dataset("fashion_mnist"), budget)
    C = ds.num_classes
    train = Split(jnp.asarray(ds.x_train), jnp.asarray(ds.y_train), C)
    n_test = args.test_points or len(ds.y_test)
    x_test, y_test = jnp.asarray(ds.x_test[:n_test]), jnp.asarray(ds.y_test[:n_test])
    xt_torch = torch.from_numpy(np.asarray(ds.x_test[:n_test])).permute(0, 3, 1, 2).contiguous()
    yt_torch = torch.from_numpy(np.asarray(ds.y_test[:n_test], np.int64))
    random_set = jax.jit(lambda k: get_method("random", "distillation").fn(k, train, IPC))
    method_keys = seed_keys(args.root_seed, args.sets, METHOD_TAG)
    eval_keys = seed_keys(args.root_seed, args.sets, EVAL_TAG)
    arch = eval_archs(C, budget)["convnet"]
    evaluator = NetworkEval(arch, ds.input_shape, IPC * C, False, budget)
    model_fn = lambda rngs: models.Network(arch, ds.input_shape, rngs=rngs)
    work = (
        f"ConvNet-3 (128, instance norm, avg pool) on {IPC} random Fashion-MNIST images per class, "
        f"SGD {LR}/{MOMENTUM}/{WEIGHT_DECAY}, batch {BATCH}, {args.epochs} epochs, test on {n_test}"
    )
    print("work:", work)

    acc: dict[str, list[float]] = {"dc": [], "same": [], "ntkbench": []}
    secs: dict[str, list[float]] = {"dc": [], "same": [], "ntkbench": []}
    cpu: dict[str, list[float]] = {"dc": [], "same": [], "ntkbench": []}
    for s in range(args.sets):
        x_syn, y_syn = random_set(method_keys[s])
        x_torch = torch.from_numpy(np.array(x_syn)).permute(0, 3, 1, 2).contiguous()
        y_torch = torch.from_numpy(np.array(y_syn, np.int64))
        with Stopwatch() as sw:
            nb_acc, _ = evaluator.accuracies(eval_keys[s], x_syn, y_syn, x_test, y_test)
        secs["ntkbench"] += [sw.seconds / args.networks] * args.networks
        cpu["ntkbench"] += [sw.cpu_seconds / args.networks] * args.networks
        acc["ntkbench"] += nb_acc.tolist()
        print(
            f"set {s}: ntkbench {args.networks} networks (vmapped) {sw.seconds:.1f} s wall, "
            f"{sw.cpu_seconds:.1f} s CPU (compile so far {evaluator.compile_seconds:.1f} s), "
            f"acc {np.round(nb_acc, 2).tolist()}, load {sw.load_before}",
            flush=True,
        )
        for i in range(args.networks):
            torch.manual_seed(1000 * args.root_seed + 100 * s + i)
            for variant in args.variants.split(","):
                if variant == "dc":
                    net = ConvNet(C, first_padding=3)
                else:
                    # the i-th network's initial weights as NetworkEval draws them: fold_in(key, i), then split
                    k_init = jax.random.split(jax.random.fold_in(eval_keys[s], i))[0]
                    net = ConvNet(C, first_padding=1)
                    flax_params = build(model_fn, k_init)[1]
                    load_flax_weights(net, flax_params)
                    if s == 0 and i == 0:
                        print(f"torch 'same' vs Flax at init: max |logit diff| {logit_gap(net, flax_params):.2e}")
                with Stopwatch() as sw:
                    (train_dc if variant == "dc" else train_same)(net, x_torch, y_torch, args.epochs)
                    a = test_accuracy(net, xt_torch, yt_torch)
                acc[variant].append(a)
                secs[variant].append(sw.seconds)
                cpu[variant].append(sw.cpu_seconds)
                print(
                    f"set {s} network {i}: torch {variant} {sw.seconds:.1f} s wall, {sw.cpu_seconds:.1f} s CPU, "
                    f"acc {a:.2f}, load {sw.load_before}",
                    flush=True,
                )

    for variant, peer in (("dc", "PyTorch DC-BENCH ConvNet"), ("same", "PyTorch, ntkbench's ConvNet + init")):
        if not acc[variant]:
            continue
        numbers = {
            "test acc %": f"torch {mean_std(acc[variant])} vs ntkbench {mean_std(acc['ntkbench'])}",
            "CPU s per network": f"torch {np.mean(cpu[variant]):.1f} vs ntkbench {np.mean(cpu['ntkbench']):.1f}",
            "networks": f"{len(acc[variant])} per side ({args.sets} set(s))",
            "ntkbench compile s": f"{evaluator.compile_seconds:.1f}",
        }
        line = comparison_line(
            f"distillation eval ({variant}): {work}",
            peer,
            float(np.mean(secs[variant])),
            float(np.mean(secs["ntkbench"])),
            numbers,
        )
        print(line, flush=True)
    print("budget:", dataclasses.asdict(budget))


if __name__ == "__main__":
    main()
