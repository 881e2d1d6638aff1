"""Published adversarial numbers `ntkbench reproduce` checks (each read at its source)."""

from __future__ import annotations

# Published numbers for `ntkbench reproduce` (accuracies in percent; AutoAttack = the worst case).
# Architectures are approximated with `nb.models.convnet` (average pooling where the originals max-pool).
_AA = "fra31/auto-attack README, MNIST L∞ eps 0.3 table (AutoAttack standard version, 10000 test points)"
_MADRY = {
    "widths": [32, 64],
    "kernel_size": 5,
    "stride": 1,
    "pool": "avg",
    "dense": [1024],
    "lr": 1e-4,
    "steps": 100000,
    "batch_size": 50,
    "attack_steps": 40,
    "attack_step_size": 0.01,
}
_TRADES = {
    "widths": [32, 64],
    "kernel_size": 3,
    "stride": 1,
    "pool": "avg",
    "dense": [200, 200],
    "lr": 1e-3,
    "steps": 46875,
    "batch_size": 128,
    "beta": 6.0,
    "attack_steps": 40,
    "attack_step_size": 0.01,
}
_BUDGET = {"norm": "linf", "eps": 0.3, "test_points": 10000}
PUBLISHED = (
    {
        "name": "madry2018-mnist-pgd-at-clean",
        "task": "adversarial",
        "dataset": "mnist",
        "method": "pgd-at",
        "params": _MADRY,
        "budget": _BUDGET,
        "metric": "clean_acc",
        "value": 98.53,
        "tolerance": 1.0,
        "source": f"Madry et al. 2018 PGD-AT (2 conv + FC1024, 40-step PGD, step 0.01); {_AA}",
        "hardware": "1 GPU: ~2 h training (100k steps of 40-step PGD, batch 50) + ~30 min of attacks on 10000 "
        "points; impractical on 2 CPU cores (days). Needs the MNIST import.",
    },
    {
        "name": "madry2018-mnist-pgd-at-autoattack",
        "task": "adversarial",
        "dataset": "mnist",
        "method": "pgd-at",
        "params": _MADRY,
        "budget": _BUDGET,
        "metric": "robust_acc",
        "value": 88.50,
        "tolerance": 1.5,
        "source": f"Madry et al. 2018 PGD-AT; {_AA}",
        "hardware": "as madry2018-mnist-pgd-at-clean (same run)",
    },
    {
        "name": "zhang2019-mnist-trades-clean",
        "task": "adversarial",
        "dataset": "mnist",
        "method": "trades",
        "params": _TRADES,
        "budget": _BUDGET,
        "metric": "clean_acc",
        "value": 99.48,
        "tolerance": 1.0,
        "source": f"Zhang et al. 2019 TRADES (small CNN, beta 6, 100 epochs, 40-step inner maximisation); {_AA}",
        "hardware": "1 GPU: ~2 h training + ~30 min of attacks; days on 2 CPU cores. Needs the MNIST import.",
    },
    {
        "name": "zhang2019-mnist-trades-autoattack",
        "task": "adversarial",
        "dataset": "mnist",
        "method": "trades",
        "params": _TRADES,
        "budget": _BUDGET,
        "metric": "robust_acc",
        "value": 92.81,
        "tolerance": 1.5,
        "source": f"Zhang et al. 2019 TRADES; {_AA}",
        "hardware": "as zhang2019-mnist-trades-clean (same run)",
    },
)
