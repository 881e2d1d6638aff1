"""Image datasets through TensorFlow Datasets, from a prepared copy under `<data_dir>/tfds`.

TensorFlow and tensorflow_datasets are imported only inside `load_tfds_arrays`, and TensorFlow is
told to leave the GPUs to JAX. Nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ntkbench.data.catalogue import DatasetMissingError, missing_message, tfds_dir


def _hide_gpus_from_tensorflow(tf) -> None:
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:  # already initialised: visible devices can no longer change
        pass


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
        (train, test), info = tfds.load(
            name,
            split=["train", "test"],
            data_dir=str(tfds_dir(data_dir)),
            download=False,
            shuffle_files=False,
            as_supervised=True,
            with_info=True,
        )
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
