"""Datasets by name: `load_dataset("mnist1d")`. Loaders register themselves on import."""

from ntkbench.data import images as _images  # noqa: F401  (registers mnist, fashion_mnist, cifar10, cifar100, svhn_cropped)
from ntkbench.data import synthetic as _synthetic  # noqa: F401  (registers mnist1d, lza-<d>, fourier1d, sphere3)
from ntkbench.data.base import Dataset, fingerprint_arrays
from ntkbench.data.importer import DataImportError, import_dataset, list_available
from ntkbench.data.registry import (
    dataset_names,
    default_data_dir,
    is_known_dataset,
    load_dataset,
    register_dataset,
)

__all__ = [
    "Dataset",
    "fingerprint_arrays",
    "dataset_names",
    "default_data_dir",
    "is_known_dataset",
    "load_dataset",
    "register_dataset",
    "DataImportError",
    "import_dataset",
    "list_available",
]
