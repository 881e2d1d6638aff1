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

import sys
from pathlib import Path

from ntkbench.data import importer
from ntkbench.data.base import Dataset
from ntkbench.data.catalogue import (
    IMAGE_DATASETS,
    DatasetMissingError,
    make_dataset,
    missing_message,
    tfds_dir,
    tfds_prepared,
)
from ntkbench.data.registry import register_dataset
from ntkbench.data.tfds_data import load_tfds_arrays


def load_image_dataset(name: str, data_dir: Path) -> Dataset:
    """Loader for the names in IMAGE_DATASETS: imported copy, else TFDS, else a clear error."""
    data_dir = Path(data_dir)
    spec = IMAGE_DATASETS[name]
    imported = importer.read_imported(name, data_dir)
    if imported is not None:
        arrays, manifest = imported
        meta = {
            "source": f"imported:{manifest['dest']}",
            "tfds": manifest["tfds_equivalent"],
            "imported_from": manifest["source_path"],
            "verified": manifest["verified"],
            "raw_fingerprint": manifest["raw_fingerprint"],
        }
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
    register_dataset(_spec.name, _spec.description, num_train=_spec.num_train)(load_image_dataset)
