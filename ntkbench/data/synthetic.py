"""Offline datasets: MNIST-1D (procedural) and the Li–Zhang–Arora synthetic task."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ntkbench.data.base import Dataset
from ntkbench.data.registry import register_dataset


def _mnist1d(shuffle: bool) -> dict:
    # make_dataset is procedural and offline; get_dataset would download, so it is never used.
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.shuffle_seq = shuffle
    return make_dataset(args)


@register_dataset("mnist1d", "MNIST-1D, 4000 train / 1000 test, length 40 (procedural, offline)")
@register_dataset("mnist1d-shuffled", "MNIST-1D with one fixed spatial permutation of every signal")
def load_mnist1d(name: str, data_dir: Path) -> Dataset:
    shuffle = name == "mnist1d-shuffled"
    d = _mnist1d(shuffle)
    as_x = lambda a: np.asarray(a, np.float32)[..., None]  # (N, 40) -> (N, 40, 1)
    return Dataset(
        name=name,
        x_train=as_x(d["x"]),
        y_train=np.asarray(d["y"], np.int32),
        x_test=as_x(d["x_test"]),
        y_test=np.asarray(d["y_test"], np.int32),
        num_classes=10,
        meta={
            "source": "mnist1d.make_dataset(get_dataset_args())" + (" shuffle_seq=True" if shuffle else ""),
            "normalisation": "mnist1d's own: zero mean, unit std over the whole set",
        },
    )


LZA_TRAIN, LZA_TEST = 8192, 2000


def lza_dim(name: str) -> tuple[int, int]:
    """(d, k) of `lza-<d>`; KeyError unless d = 2k²."""
    d_str = name.split("-", 1)[1]
    try:
        d = int(d_str)
    except ValueError:
        raise KeyError(f"dataset {name!r}: lza-<d> needs an integer d, got {d_str!r}") from None
    k = math.isqrt(d // 2)
    if d <= 0 or 2 * k * k != d:
        raise KeyError(f"dataset {name!r}: d must be 2k^2 (2, 8, 18, 32, 50, 72, ...), got {d}")
    return d, k


@register_dataset(
    "lza-<d>",
    "Li-Zhang-Arora synthetic: x in R^(2xkxk) iid N(0,1), d=2k^2, label sign(|ch1|^2-|ch2|^2)",
    validate=lza_dim,
)
def load_lza(name: str, data_dir: Path) -> Dataset:
    d, k = lza_dim(name)
    rng = np.random.default_rng(np.random.SeedSequence([0x1A2A, d]))
    x = rng.standard_normal((LZA_TRAIN + LZA_TEST, k, k, 2), dtype=np.float32)
    energy = (x**2).sum(axis=(1, 2))
    y = (energy[:, 0] > energy[:, 1]).astype(np.int32)
    return Dataset(
        name=name,
        x_train=x[:LZA_TRAIN],
        y_train=y[:LZA_TRAIN],
        x_test=x[LZA_TRAIN:],
        y_test=y[LZA_TRAIN:],
        num_classes=2,
        meta={
            "source": f"generated, seed SeedSequence([0x1A2A, {d}])",
            "normalisation": "none (N(0, 1))",
            "d": d,
            "k": k,
        },
    )
