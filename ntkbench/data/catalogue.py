"""The catalogue of image datasets: names, shapes, sizes, TFDS equivalents, and the one way raw
uint8 arrays become a `Dataset` (shared by the imported-copy and the TFDS load paths).

Imports neither TensorFlow nor the importer: every other data module may import this one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ntkbench.data.base import Dataset

NORMALISATION = "uint8 scaled to [0, 1]: float32(x) / 255"


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    name: str
    tfds: str  # TFDS full name whose arrays (content and order) this dataset reproduces
    shape: tuple[int, int, int]
    num_classes: int
    num_train: int
    num_test: int
    description: str
    importable: bool


IMAGE_DATASETS: dict[str, ImageSpec] = {
    s.name: s
    for s in [
        ImageSpec(
            "mnist",
            "mnist/3.0.1",
            (28, 28, 1),
            10,
            60000,
            10000,
            "MNIST handwritten digits, 60k/10k, 28x28x1 (TFDS or imported IDX files)",
            True,
        ),
        ImageSpec(
            "fashion_mnist",
            "fashion_mnist/3.0.1",
            (28, 28, 1),
            10,
            60000,
            10000,
            "Fashion-MNIST, 60k/10k, 28x28x1 (TFDS or imported IDX files)",
            True,
        ),
        ImageSpec(
            "cifar10",
            "cifar10/3.0.2",
            (32, 32, 3),
            10,
            50000,
            10000,
            "CIFAR-10, 50k/10k, 32x32x3 (TFDS or imported binary version)",
            True,
        ),
        ImageSpec(
            "cifar100",
            "cifar100/3.0.2",
            (32, 32, 3),
            100,
            50000,
            10000,
            "CIFAR-100 fine labels, 50k/10k, 32x32x3 (TFDS or imported binary version)",
            True,
        ),
        ImageSpec(
            "svhn_cropped",
            "svhn_cropped/3.1.0",
            (32, 32, 3),
            10,
            73257,
            26032,
            "SVHN cropped digits, train/test (no 'extra'), 32x32x3 (TFDS only)",
            False,
        ),
    ]
}


class DatasetMissingError(FileNotFoundError):
    """Neither an imported copy nor a prepared TFDS copy of a dataset is in the data dir."""


def tfds_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "tfds"


def to_unit_float(x: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1], the one normalisation both load paths share (bit-identical)."""
    out = np.empty(x.shape, np.float32)
    np.divide(x, np.float32(255.0), out=out, dtype=np.float32)
    return out


def make_dataset(name: str, x_train, y_train, x_test, y_test, meta: dict) -> Dataset:
    """A `Dataset` from uint8 NHWC images and integer labels, scaled to [0, 1]."""
    spec = IMAGE_DATASETS[name]
    for split, x in (("train", x_train), ("test", x_test)):
        if x.dtype != np.uint8 or x.shape[1:] != spec.shape:
            raise ValueError(
                f"dataset {name!r}: {split} images are {x.dtype}{x.shape}, expected uint8 (N, *{spec.shape})"
            )
    return Dataset(
        name=name,
        x_train=to_unit_float(x_train),
        y_train=np.asarray(y_train, np.int32),
        x_test=to_unit_float(x_test),
        y_test=np.asarray(y_test, np.int32),
        num_classes=spec.num_classes,
        meta={"normalisation": NORMALISATION, **meta},
    )


def tfds_prepared(name: str, data_dir: Path) -> Path | None:
    """The prepared TFDS version folder of `name` under `<data_dir>/tfds`, found without TF."""
    spec = IMAGE_DATASETS[name]
    candidate = tfds_dir(data_dir) / spec.tfds / "dataset_info.json"
    if candidate.is_file():
        return candidate.parent
    found = sorted(tfds_dir(data_dir).glob(f"{name}/*/dataset_info.json")) + sorted(
        tfds_dir(data_dir).glob(f"{name}/*/*/dataset_info.json")
    )
    return found[-1].parent if found else None


def missing_message(name: str, data_dir: Path) -> str:
    spec = IMAGE_DATASETS[name]
    how = (
        f"import the original files with `ntkbench data import {name} --from PATH`"
        if spec.importable
        else "no local import exists for it"
    )
    return (
        f"dataset {name!r} is not in {data_dir}: no imported copy in {Path(data_dir) / 'imported' / name} "
        f"and no prepared TFDS copy in {tfds_dir(data_dir)}; {how}, or prepare it with TFDS "
        f"(tfds.builder({name!r}, data_dir={str(tfds_dir(data_dir))!r}).download_and_prepare() on a "
        f"machine with network access; ntkbench never downloads)"
    )
