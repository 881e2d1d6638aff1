"""The NTK view: infinite-width kernel regression on the subsets the finite network saw."""

from __future__ import annotations

import jax
import numpy as np
from numpy.typing import ArrayLike

from ntkbench.data.subsets import class_balanced_indices
from ntkbench.engine.kernel_predictor import arch_of, centred_one_hot, krr_on_subsets
from ntkbench.engine.seeds import seed_keys
from ntkbench.kernels import kernel_target_alignment, label_energy_share
from ntkbench.results import metric
from ntkbench.tasks.base import RunContext
from ntkbench.tasks.sample_complexity.budget import Budget

SUBSET_TAG = 0  # the subset key's tag (same as the task's: the view uses the very same subsets)


def ntk_view(
    ctx: RunContext[Budget],
    grid: list[int],
    acc_by_n: dict[int, np.ndarray],
    x_train: jax.Array,
    x_test: jax.Array,
    y_test: ArrayLike,
) -> dict:
    """Infinite-width NTK regression on the same subsets the finite network saw, the finite −
    infinite gap per n, and the spectral view of each training Gram (share of label energy in the
    top-k eigendirections; kernel-target alignment)."""
    ds, budget = ctx.dataset, ctx.budget
    arch = arch_of(ctx.method, ctx.params, ds.num_classes)
    if arch is None:
        return {"note": f"method {ctx.method.name!r} declares no architecture (arch= hook); no NTK view"}
    seeds = min(budget.ntk_seeds, ctx.seeds)
    grid = [n for n in grid if n <= budget.ntk_max_n]
    accs: dict[int, list[float]] = {n: [] for n in grid}
    shares: dict[int, list[float]] = {n: [] for n in grid}
    aligns: dict[int, list[float]] = {n: [] for n in grid}
    y_test = np.asarray(y_test)
    for s in range(seeds):
        subsets = [
            np.asarray(
                class_balanced_indices(
                    jax.random.fold_in(seed_keys(ctx.root_seed, ctx.seeds, n)[s], SUBSET_TAG),
                    ds.y_train,
                    n,
                    ds.num_classes,
                )
            )
            for n in grid
        ]
        # one kernel evaluation on the union of this seed's subsets (they overlap, up to the whole split)
        fits = krr_on_subsets(arch, "ntk", x_train, ds.y_train, subsets, x_test, ds.num_classes)
        for n, idx, (scores, k_tt) in zip(grid, subsets, fits):
            accs[n].append(float((scores.argmax(-1) == y_test).mean() * 100))
            targets = centred_one_hot(ds.y_train[idx], ds.num_classes)
            shares[n].append(float(label_energy_share(k_tt, targets, min(budget.ntk_top_k, n))))
            aligns[n].append(float(kernel_target_alignment(k_tt, targets)))
    infinite, gap, energy, align = {}, {}, {}, {}
    for n in grid:
        name = f"test_acc@n={n}"
        infinite[name] = metric(accs[n])
        finite = float(acc_by_n[n][:seeds].mean())
        gap[name] = finite - infinite[name]["mean"]
        energy[f"n={n}"], align[f"n={n}"] = metric(shares[n]), metric(aligns[n])
        ctx.log(
            f"n={n}: infinite-width NTK {infinite[name]['mean']:.1f} (finite − infinite {gap[name]:+.1f}), "
            f"top-{budget.ntk_top_k} label energy {energy[f'n={n}']['mean']:.2f}"
        )
    return {
        "kernel": "ntk",
        "arch": arch.__dict__ | {"widths": list(arch.widths), "dense": list(arch.dense)},
        "seeds": seeds,
        "infinite": infinite,
        "finite_minus_infinite": gap,
        f"label_energy_top{budget.ntk_top_k}": energy,
        "kernel_target_alignment": align,
    }
