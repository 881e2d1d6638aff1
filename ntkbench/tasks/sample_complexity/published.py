"""Published sample-complexity numbers `ntkbench reproduce` checks (each read at its source)."""

from __future__ import annotations

# The README's table gives no spread; the repository's notebooks/mnist1d-classification.ipynb trains
# each model once (seed 42; Adam 1e-2, batch 100, 6000 steps). Whole percent.
_MNIST1D = "greydanus/mnist1d README (Greydanus & Kobak 2024), test accuracy with 4000 training examples"
_ONE_RUN = "; value: one run (no spread given; the repository's notebook trains once, seed 42), whole percent"
_FULL = {"n": [4000], "targets": [60.0], "ntk_view": False}
PUBLISHED = tuple(
    [
        {
            "name": f"{data}-{m}",
            "task": "sample_complexity",
            "dataset": data,
            "method": m,
            "params": {},
            "budget": _FULL,
            "metric": "test_acc@n=4000",
            "value": value,
            "tolerance": 5.0,
            "seeds": 3,
            "source": _MNIST1D + (" (shuffled)" if "shuffled" in data else "") + _ONE_RUN,
            "hardware": "any; 2 CPU cores: ~1 min (mlp) / ~3 min (cnn) for 3 seeds",
        }
        for data, m, value in (
            ("mnist1d", "mlp", 68.0),
            ("mnist1d", "cnn", 94.0),
            ("mnist1d-shuffled", "mlp", 68.0),
            ("mnist1d-shuffled", "cnn", 56.0),
        )
    ]
    # The README's "Logistic regression" column: the repo's LinearBase (one linear layer) trained
    # like its MLP (notebooks/train.py: Adam lr 1e-2, batch 100; 6000 steps in the classification
    # notebook). The `mlp` method with depth 0 is that linear model.
    + [
        {
            "name": f"{data}-logistic",
            "task": "sample_complexity",
            "dataset": data,
            "method": "mlp",
            "params": {"depth": 0},
            "budget": _FULL,
            "metric": "test_acc@n=4000",
            "value": 32.0,
            "tolerance": 5.0,
            "seeds": 3,
            "source": _MNIST1D + (" (shuffled)" if "shuffled" in data else "") + ", logistic regression" + _ONE_RUN,
            "hardware": "any; 2 CPU cores: ~1 min for 3 seeds",
        }
        for data in ("mnist1d", "mnist1d-shuffled")
    ]
)
