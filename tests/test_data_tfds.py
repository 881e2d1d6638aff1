"""Named image datasets through TFDS (mocked: nothing is downloaded) and the missing-data error."""

import subprocess
import sys

import numpy as np
import pytest

from ntkbench.data import dataset_names, load_dataset
from ntkbench.data.catalogue import IMAGE_DATASETS, NORMALISATION, DatasetMissingError
from ntkbench.data.images import load_image_dataset

tfds = pytest.importorskip("tensorflow_datasets")


def test_all_image_datasets_registered():
    names = {n for n, _ in dataset_names()}
    assert {"mnist", "fashion_mnist", "cifar10", "cifar100", "svhn_cropped"} <= names


@pytest.mark.parametrize("name", ["fashion_mnist", "cifar10", "svhn_cropped"])
def test_tfds_path_under_mock_data(name, tmp_path):
    spec = IMAGE_DATASETS[name]
    with tfds.testing.mock_data(num_examples=12):
        ds = load_dataset(name, tmp_path)
    assert ds.x_train.shape == (12, *spec.shape) and ds.x_test.shape == (12, *spec.shape)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int32
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert ds.num_classes == spec.num_classes
    assert ds.meta["source"] == "tfds"
    assert ds.meta["normalisation"] == NORMALISATION
    assert ds.meta["tfds"] == spec.tfds
    assert ds.meta["fingerprint"] == ds.fingerprint()


def test_tfds_path_is_deterministic(tmp_path):
    with tfds.testing.mock_data(num_examples=5):
        a = load_image_dataset("mnist", tmp_path)
        b = load_image_dataset("mnist", tmp_path)
    assert a.fingerprint() == b.fingerprint()


def test_missing_dataset_says_how_to_import(tmp_path):
    # No TFDS mock, no files: the error names the import command and never downloads.
    with pytest.raises(DatasetMissingError, match=r"ntkbench data import cifar10 --from PATH"):
        load_image_dataset("cifar10", tmp_path)


def test_missing_dataset_does_not_import_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from ntkbench.data import load_dataset\n"
        "from ntkbench.data.catalogue import DatasetMissingError\n"
        "try:\n"
        f"    load_dataset('mnist', {str(tmp_path)!r})\n"
        "except DatasetMissingError as e:\n"
        "    print('missing:', e)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "assert 'tensorflow_datasets' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ntkbench data import mnist --from PATH" in out.stdout


def test_list_available_sees_a_prepared_tfds_copy_without_tensorflow(tmp_path):
    from ntkbench.data.importer import list_available

    (tmp_path / "tfds" / "cifar10" / "3.0.2").mkdir(parents=True)
    (tmp_path / "tfds" / "cifar10" / "3.0.2" / "dataset_info.json").write_text("{}")
    rows = {r["name"]: r for r in list_available(tmp_path)}
    assert set(rows) == set(IMAGE_DATASETS)
    assert rows["cifar10"]["status"] == "tfds" and rows["cifar10"]["tfds"] == "cifar10/3.0.2"
    assert rows["mnist"]["status"] == "missing" and rows["mnist"]["fingerprint"] is None
    assert rows["svhn_cropped"]["importable"] is False
