"""Published forgetting numbers `ntkbench reproduce` checks (each read at its source)."""

from __future__ import annotations

# Published numbers for `ntkbench reproduce` (accuracies and forgetting in percentage points).
PUBLISHED = (
    {
        "name": "mirzadeh2020-permuted-mnist-sgd-acc",
        "task": "forgetting",
        "dataset": "mnist",
        "method": "sgd",
        "params": {"lr": 0.01},
        "budget": {"stream": "permuted", "num_tasks": 20, "epochs": 1, "batch_size": 10},
        "metric": "ACC",
        "value": 44.4,
        "tolerance": 5.0,
        "source": "Mirzadeh et al. 2020, Understanding the Role of Training Regimes in Continual Learning (NeurIPS), "
        "Table 2, naive SGD, Permuted MNIST 20 tasks, MLP 2x256",
        "hardware": "any; ~20 min on 2 CPU cores per seed (20 tasks x 6000 steps + 420 evaluations)",
    },
    {
        "name": "mirzadeh2020-permuted-mnist-sgd-forgetting",
        "task": "forgetting",
        "dataset": "mnist",
        "method": "sgd",
        "params": {"lr": 0.01},
        "budget": {"stream": "permuted", "num_tasks": 20, "epochs": 1, "batch_size": 10},
        "metric": "forgetting",
        "value": 53.0,
        "tolerance": 5.0,
        "source": "Mirzadeh et al. 2020, Table 2 (published as 0.53, a fraction; 53 points here)",
        "hardware": "any; ~20 min on 2 CPU cores per seed",
    },
)
