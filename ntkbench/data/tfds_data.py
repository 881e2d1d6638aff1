"""Named image datasets (`mnist`, `fashion_mnist`, `cifar10`, `cifar100`, `svhn_cropped`).

`load_dataset(name, data_dir)` for these names looks, in order, for

1. an imported local copy in `<data_dir>/imported/<name>/` (written by
   `ntkbench data import NAME --from PATH`, see `ntkbench.data.importer`): raw uint8 `.npy` arrays,
   memory-mapped, in the same example order as TFDS, so the loaded arrays and the fingerprint equal
   those of a TFDS load of the same version;
2. a prepared TFDS copy in `<data_dir>/tfds/` (read with `download=False`, iterated in batches:
   never `batch_size=-1`, which aborts the process under `tfds.testing.mock_data`);
3. neither: a `DatasetMissingError` that says how to import the files. Nothing is ever downloaded.

Both paths give whole splits as numpy arrays: channels-last float32 inputs scaled from uint8 to
[0, 1] (`x / 255`, computed in float32), int32 labels. `meta` records the source (`"tfds"` or
`"imported:<path>"`), the normalisation (a string), the TFDS name/version (`tfds`) and, for an
imported copy, how it was verified.

TensorFlow and tensorflow_datasets are imported only inside the TFDS path, and TensorFlow is told
to leave the GPUs alone before TFDS touches it (JAX owns the accelerator).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from ntkbench.data.base import Dataset
from ntkbench.data.registry import register_dataset

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
        ImageSpec("mnist", "mnist/3.0.1", (28, 28, 1), 10, 60000, 10000,
                  "MNIST handwritten digits, 60k/10k, 28x28x1 (TFDS or imported IDX files)", True),
        ImageSpec("fashion_mnist", "fashion_mnist/3.0.1", (28, 28, 1), 10, 60000, 10000,
                  "Fashion-MNIST, 60k/10k, 28x28x1 (TFDS or imported IDX files)", True),
        ImageSpec("cifar10", "cifar10/3.0.2", (32, 32, 3), 10, 50000, 10000,
                  "CIFAR-10, 50k/10k, 32x32x3 (TFDS or imported binary version)", True),
        ImageSpec("cifar100", "cifar100/3.0.2", (32, 32, 3), 100, 50000, 10000,
                  "CIFAR-100 fine labels, 50k/10k, 32x32x3 (TFDS or imported binary version)", True),
        ImageSpec("svhn_cropped", "svhn_cropped/3.1.0", (32, 32, 3), 10, 73257, 26032,
                  "SVHN cropped digits, train/test (no 'extra'), 32x32x3 (TFDS only)", False),
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
            raise ValueError(f"dataset {name!r}: {split} images are {x.dtype}{x.shape}, expected uint8 (N, *{spec.shape})")
    return Dataset(
        name=name,
        x_train=to_unit_float(x_train), y_train=np.asarray(y_train, np.int32),
        x_test=to_unit_float(x_test), y_test=np.asarray(y_test, np.int32),
        num_classes=spec.num_classes,
        meta={"normalisation": NORMALISATION, **meta},
    )


def _hide_gpus_from_tensorflow(tf) -> None:
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:  # already initialised: visible devices can no longer change
        pass


def tfds_prepared(name: str, data_dir: Path) -> Path | None:
    """The prepared TFDS version folder of `name` under `<data_dir>/tfds`, found without TF."""
    spec = IMAGE_DATASETS[name]
    candidate = tfds_dir(data_dir) / spec.tfds / "dataset_info.json"
    if candidate.is_file():
        return candidate.parent
    found = sorted(tfds_dir(data_dir).glob(f"{name}/*/dataset_info.json")) + sorted(
        tfds_dir(data_dir).glob(f"{name}/*/*/dataset_info.json"))
    return found[-1].parent if found else None


def load_tfds_arrays(name: str, data_dir: Path, batch: int = 10000) -> tuple[dict[str, np.ndarray], str]:
    """Whole train/test splits of a TFDS dataset as uint8 images and int labels, TFDS's order.

    Reads `<data_dir>/tfds` with `download=False`; raises `DatasetMissingError` when the dataset
    is not prepared there. Iterates the tf.data pipeline in batches (works under
    `tfds.testing.mock_data`; `batch_size=-1` would not). Returns the arrays and TFDS's full name.
    """
    import tensorflow as tf

    _hide_gpus_from_tensorflow(tf)
    import tensorflow_datasets as tfds

    try:
        (train, test), info = tfds.load(name, split=["train", "test"], data_dir=str(tfds_dir(data_dir)),
                                        download=False, shuffle_files=False, as_supervised=True,
                                        with_info=True)
    except (AssertionError, tfds.core.DatasetNotFoundError) as e:
        raise DatasetMissingError(missing_message(name, data_dir)) from e
    arrays = {}
    for split, ds in (("train", train), ("test", test)):
        xs, ys = [], []
        for x, y in tfds.as_numpy(ds.batch(batch)):
            xs.append(x)
            ys.append(y)
        arrays[f"x_{split}"] = np.concatenate(xs)
        arrays[f"y_{split}"] = np.concatenate(ys)
    return arrays, info.full_name


def missing_message(name: str, data_dir: Path) -> str:
    spec = IMAGE_DATASETS[name]
    how = (f"import the original files with `ntkbench data import {name} --from PATH`"
           if spec.importable else "no local import exists for it")
    return (f"dataset {name!r} is not in {data_dir}: no imported copy in {Path(data_dir) / 'imported' / name} "
            f"and no prepared TFDS copy in {tfds_dir(data_dir)}; {how}, or prepare it with TFDS "
            f"(tfds.builder({name!r}, data_dir={str(tfds_dir(data_dir))!r}).download_and_prepare() on a "
            f"machine with network access; ntkbench never downloads)")


def load_image_dataset(name: str, data_dir: Path) -> Dataset:
    """Loader for the names in IMAGE_DATASETS: imported copy, else TFDS, else a clear error."""
    from ntkbench.data import importer

    data_dir = Path(data_dir)
    spec = IMAGE_DATASETS[name]
    imported = importer.read_imported(name, data_dir)
    if imported is not None:
        arrays, manifest = imported
        meta = {"source": f"imported:{manifest['dest']}", "tfds": manifest["tfds_equivalent"],
                "imported_from": manifest["source_path"], "verified": manifest["verified"],
                "raw_fingerprint": manifest["raw_fingerprint"]}
        return make_dataset(name, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], meta)
    # Only pay for importing TensorFlow when there is something for TFDS to read (or TFDS is
    # already imported: `tfds.testing.mock_data` needs no files on disk).
    if tfds_prepared(name, data_dir) is None and "tensorflow_datasets" not in sys.modules:
        raise DatasetMissingError(missing_message(name, data_dir))
    arrays, full_name = load_tfds_arrays(name, data_dir)
    meta = {"source": "tfds", "tfds": full_name, "tfds_data_dir": str(tfds_dir(data_dir))}
    if full_name != spec.tfds:  # another TFDS release: arrays may differ from an imported copy
        meta["tfds_expected"] = spec.tfds
    return make_dataset(name, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], meta)


for _spec in IMAGE_DATASETS.values():
    register_dataset(_spec.name, _spec.description)(load_image_dataset)
