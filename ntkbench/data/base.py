"""The in-memory dataset every task consumes, and its fingerprint."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """Whole train and test splits as arrays; inputs channels-last float32, labels int32.

    `meta` records where the arrays came from and how they were normalised; it goes into every
    result file beside the fingerprint.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.ndim < 2 or y.ndim != 1 or len(x) != len(y):
                raise ValueError(f"dataset {self.name!r}: x_{split} {x.shape} and y_{split} {y.shape} do not match")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"dataset {self.name!r}: train and test inputs differ in shape")
        lo, hi = int(min(self.y_train.min(), self.y_test.min())), int(max(self.y_train.max(), self.y_test.max()))
        if lo < 0 or hi >= self.num_classes:
            raise ValueError(f"dataset {self.name!r}: labels span [{lo}, {hi}], outside 0..{self.num_classes - 1}")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def fingerprint(self) -> str:
        return fingerprint_arrays(self.x_train, self.y_train, self.x_test, self.y_test)

    def replace(self, **changes) -> Dataset:
        return dataclasses.replace(self, **changes)


def fingerprint_arrays(*arrays: np.ndarray) -> str:
    """sha256 over dtype, shape and bytes of each array, in order: equal arrays, equal print."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return "sha256:" + h.hexdigest()
