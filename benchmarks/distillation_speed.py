"""Distillation speed, measured in one process (numbers and ratios printed, nothing asserted).

1. KIP distillation steps per second (the `kip` plugin, FC NTK, Adam, target batch 1000), run
   time only (compile reported apart), one seed.
2. Evaluation time per network: the task's ConvNet evaluation (DC protocol, `--epochs` epochs,
   `--test-points` test images) for `--networks` networks as one vmapped program vs the same
   networks one after another; seconds per network and the ratio vmapped ÷ sequential.

    python benchmarks/distillation_speed.py [--dataset fashion_mnist] [--ipc 10] [--kip-steps 100]
        [--networks 3] [--epochs 20] [--test-points 1000] [--width 128]

Uses Fashion-MNIST when it has been imported (`ntkbench data import fashion_mnist --from ...`),
else pass `--dataset mnist1d`.
"""

import argparse
import time

import jax
import jax.numpy as jnp

import ntkbench as nb
from ntkbench.data import load_dataset
from ntkbench.data.preprocess import standardise
from ntkbench.engine.seeds import run_seeds, seed_keys
from ntkbench.registry import get_method
from ntkbench.tasks import get_task
from ntkbench.tasks.distillation.evaluation import NetworkEval, eval_archs


def kip_speed(train, ipc, steps):
    spec = get_method("kip")
    fn = lambda key: spec.fn(key, train, ipc, **{**spec.params, "steps": steps})  # noqa: E731
    keys = seed_keys(0, 1, 1)
    _, t = run_seeds(fn, keys, vmap=True)
    return steps / t.run_seconds, t.compile_seconds


def eval_speed(ds, x_syn, y_syn, budget, vmap_networks, test_points):
    ev = NetworkEval(
        eval_archs(ds.num_classes, budget)["convnet"],
        ds.input_shape,
        x_syn.shape[0],
        False,
        budget,
        vmap_networks=vmap_networks,
    )
    test = (jnp.asarray(ds.x_test[:test_points]), jnp.asarray(ds.y_test[:test_points]))
    key = jax.random.key(0)
    ev.accuracies(key, x_syn, y_syn, *test)  # compile (and one warm run)
    t0 = time.perf_counter()
    acc, _ = ev.accuracies(key, x_syn, y_syn, *test)
    return (time.perf_counter() - t0) / ev.networks, ev.compile_seconds, acc


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="fashion_mnist")
    p.add_argument("--ipc", type=int, default=10)
    p.add_argument("--kip-steps", type=int, default=100)
    p.add_argument("--networks", type=int, default=3)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--test-points", type=int, default=1000)
    p.add_argument("--width", type=int, default=128)
    a = p.parse_args()
    ds = standardise(load_dataset(a.dataset))
    train = nb.Split(jnp.asarray(ds.x_train), jnp.asarray(ds.y_train), ds.num_classes)
    print(f"{a.dataset}, ipc {a.ipc}, backend {jax.default_backend()} ({jax.devices()[0].device_kind})")

    sps, comp = kip_speed(train, a.ipc, a.kip_steps)
    print(f"KIP: {sps:.1f} distillation steps/s ({a.kip_steps} steps, compile {comp:.1f}s apart)")

    budget = get_task("distillation").typed_budget(
        a.dataset, {"ipc": a.ipc, "eval_networks": a.networks, "eval_epochs": a.epochs, "eval_width": a.width}
    )
    x_syn, y_syn = get_method("random").fn(jax.random.key(0), train, a.ipc)
    steps = a.epochs * (x_syn.shape[0] // min(256, x_syn.shape[0]))
    seq, c_seq, _ = eval_speed(ds, x_syn, y_syn, budget, False, a.test_points)
    vm, c_vm, _ = eval_speed(ds, x_syn, y_syn, budget, True, a.test_points)
    print(f"evaluation ConvNet-3 width {a.width}, {steps} SGD steps + {a.test_points} test images, per network:")
    print(f"  sequential {seq:.2f}s/network (compile {c_seq:.1f}s)")
    print(f"  vmapped x{a.networks} {vm:.2f}s/network (compile {c_vm:.1f}s)")
    print(f"  ratio vmapped / sequential = {vm / seq:.2f}")


if __name__ == "__main__":
    main()
