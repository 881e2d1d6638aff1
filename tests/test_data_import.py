"""Importing the original dataset files: verification, refusal of bad files, TFDS equivalence."""

import gzip
import json
import shutil
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from ntkbench.data import load_dataset
from ntkbench.data.importer import (
    CIFAR_LAYOUT,
    CLASS_COUNTS,
    FASHION_MNIST_DATASET_FINGERPRINT,
    FASHION_MNIST_RAW_FINGERPRINT,
    DataImportError,
    _read_cifar_source,
    import_dataset,
    list_available,
    read_idx,
    read_imported,
    tfds_order,
)

DEBIAN_FMNIST = Path("/usr/share/datasets/fashion-mnist")
needs_debian = pytest.mark.skipif(
    not (DEBIAN_FMNIST / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"real Fashion-MNIST files not installed in {DEBIAN_FMNIST} (Debian package dataset-fashion-mnist)",
)
IDX_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def assert_clean(data_dir: Path, allowed=()):
    """Nothing half-imported: the imported/ folder holds only `allowed` names (no temp folders)."""
    root = data_dir / "imported"
    left = sorted(p.name for p in root.iterdir()) if root.exists() else []
    assert left == sorted(allowed), left


# ---------------------------------------------------------------------------------------------
# synthetic files in the original formats


def write_idx(path: Path, arr: np.ndarray, magic: int, compress: bool):
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + np.ascontiguousarray(arr, np.uint8).tobytes()
    if compress:
        data = gzip.compress(data, compresslevel=1)
        path = path.with_name(path.name + ".gz")
    path.write_bytes(data)
    return path


def labels_with_counts(counts, rng):
    y = np.repeat(np.arange(len(counts)), counts).astype(np.uint8)
    rng.shuffle(y)
    return y


def fake_mnist(folder: Path, compress: bool, seed=0):
    """Full-size MNIST-shaped IDX files with MNIST's class counts (random pixels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, stem, counts in (
        ("train", "train", CLASS_COUNTS["mnist"][0]),
        ("test", "t10k", CLASS_COUNTS["mnist"][1]),
    ):
        y = labels_with_counts(counts, rng)
        x = rng.integers(0, 256, (len(y), 28, 28), dtype=np.uint8)
        write_idx(folder / f"{stem}-images-idx3-ubyte", x, 0x803, compress)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", y, 0x801, compress)
        out[split] = (x, y)
    return out


def test_synthetic_mnist_import_in_tfds_order(tmp_path):
    src = fake_mnist(tmp_path / "gz", compress=True)
    dest = import_dataset("mnist", tmp_path / "gz", tmp_path / "data")
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["verified"] == "structure"  # not the original archives, no known array fingerprint
    arrays, _ = read_imported("mnist", tmp_path / "data")
    for split, n in (("train", 60000), ("test", 10000)):
        order = tfds_order(split, n)
        x, y = src[split]
        np.testing.assert_array_equal(arrays[f"x_{split}"][..., 0], x[order])
        np.testing.assert_array_equal(arrays[f"y_{split}"], y[order])
    ds = load_dataset("mnist", tmp_path / "data")
    assert ds.meta["source"] == f"imported:{dest}" and ds.meta["verified"] == "structure"
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_train.dtype == np.float32
    np.testing.assert_array_equal(
        ds.x_test[..., 0], src["test"][0][tfds_order("test", 10000)].astype(np.float32) / np.float32(255)
    )
    assert ds.fingerprint() == manifest["dataset_fingerprint"]
    rows = {r["name"]: r for r in list_available(tmp_path / "data")}
    assert rows["mnist"]["status"] == "imported" and rows["mnist"]["fingerprint"] == ds.fingerprint()
    assert rows["cifar10"]["status"] == "missing"
    assert_clean(tmp_path / "data", ["mnist"])


def test_idx_gzipped_or_not_read_the_same(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    a = read_idx(write_idx(tmp_path / "a-images", x, 0x803, compress=True), 0x803, (28, 28))
    b = read_idx(write_idx(tmp_path / "b-images", x, 0x803, compress=False), 0x803, (28, 28))
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(b, x)
    with pytest.raises(DataImportError, match=r"b-images: IDX dimensions \(5, 28, 28\), expected \(N, 32, 32\)"):
        read_idx(tmp_path / "b-images", 0x803, (32, 32))
    (tmp_path / "c").write_bytes(x.tobytes()[:100] + b"")
    with pytest.raises(DataImportError, match="c: wrong magic number"):
        read_idx(tmp_path / "c", 0x803, (28, 28))


def test_tfds_order_matches_tfds_hashing():
    from tensorflow_datasets.core import hashing

    hasher = hashing.Hasher("test")
    expected = sorted(range(500), key=hasher.hash_key)
    np.testing.assert_array_equal(tfds_order("test", 500), expected)


def fake_cifar(folder: Path, files, label_bytes, rng, records=30):
    folder.mkdir(parents=True)
    for f in files:
        labels = rng.integers(0, 10, (records, label_bytes), dtype=np.uint8)
        table = np.concatenate([labels, rng.integers(0, 256, (records, 3072), dtype=np.uint8)], axis=1)
        (folder / f).write_bytes(table.tobytes())


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_binary_folder_and_tar_read_the_same(name, tmp_path):
    archive, folder_name, train_files, test_files, label_bytes = CIFAR_LAYOUT[name]
    rng = np.random.default_rng(1)
    bin_dir = tmp_path / "src" / folder_name
    fake_cifar(bin_dir, train_files + test_files, label_bytes, rng)
    with tarfile.open(tmp_path / archive, "w:gz", compresslevel=1) as tar:
        tar.add(bin_dir, arcname=folder_name)
    a, _ = _read_cifar_source(name, tmp_path / "src")
    b, _ = _read_cifar_source(name, tmp_path / archive)
    c, _ = _read_cifar_source(name, tmp_path)  # a folder holding the archive
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(a[k], c[k])
    assert a["x_train"].shape == (30 * len(train_files), 32, 32, 3)
    # Record layout: label byte(s) (CIFAR-100: coarse, fine), then 1024 R, 1024 G, 1024 B, row-major.
    raw = np.frombuffer((bin_dir / train_files[0]).read_bytes(), np.uint8).reshape(-1, label_bytes + 3072)
    np.testing.assert_array_equal(a["x_train"][0], raw[0, label_bytes:].reshape(3, 32, 32).transpose(1, 2, 0))
    assert a["y_train"][0] == raw[0, label_bytes - 1]
    # A truncated batch file is refused, naming it.
    victim = bin_dir / test_files[0]
    victim.write_bytes(victim.read_bytes()[:-7])
    with pytest.raises(DataImportError, match=rf"{victim}: .*truncated"):
        _read_cifar_source(name, tmp_path / "src")
    (tmp_path / archive).write_bytes((tmp_path / archive).read_bytes()[:5000])
    with pytest.raises(DataImportError, match=rf"{tmp_path / archive}: truncated or unreadable archive"):
        _read_cifar_source(name, tmp_path / archive)


def test_cifar_wrong_counts_refused_and_nothing_left(tmp_path):
    rng = np.random.default_rng(2)
    _, folder_name, train_files, test_files, _ = CIFAR_LAYOUT["cifar10"]
    fake_cifar(tmp_path / "src" / folder_name, train_files + test_files, 1, rng)
    with pytest.raises(DataImportError, match=r"train split has images \(150, 32, 32, 3\).*expected \(50000"):
        import_dataset("cifar10", tmp_path / "src", tmp_path / "data")
    assert_clean(tmp_path / "data")


def test_not_importable_and_missing_folder(tmp_path):
    with pytest.raises(DataImportError, match="cannot import 'svhn_cropped'"):
        import_dataset("svhn_cropped", tmp_path, tmp_path / "d")
    with pytest.raises(DataImportError, match=r"missing train-images-idx3-ubyte"):
        import_dataset("mnist", tmp_path, tmp_path / "d")


# ---------------------------------------------------------------------------------------------
# the real Fashion-MNIST files


@pytest.fixture(scope="module")
def fmnist_import(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("fm-data")
    return import_dataset("fashion_mnist", DEBIAN_FMNIST, data_dir), data_dir


@needs_debian
def test_debian_fashion_mnist_import_matches_known_fingerprint(fmnist_import):
    dest, data_dir = fmnist_import
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["verified"] == "fingerprint"
    assert manifest["raw_fingerprint"] == FASHION_MNIST_RAW_FINGERPRINT
    assert manifest["dataset_fingerprint"] == FASHION_MNIST_DATASET_FINGERPRINT
    ds = load_dataset("fashion_mnist", data_dir)
    assert ds.fingerprint() == FASHION_MNIST_DATASET_FINGERPRINT == ds.meta["fingerprint"]
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert ds.meta["source"] == f"imported:{dest}" and ds.meta["tfds"] == "fashion_mnist/3.0.1"
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    rows = {r["name"]: r for r in list_available(data_dir)}
    assert rows["fashion_mnist"] | {} == rows["fashion_mnist"]
    assert rows["fashion_mnist"]["status"] == "imported"
    assert rows["fashion_mnist"]["source"] == str(DEBIAN_FMNIST)
    assert rows["fashion_mnist"]["fingerprint"] == FASHION_MNIST_DATASET_FINGERPRINT
    assert_clean(data_dir, ["fashion_mnist"])


@needs_debian
def test_reimport_replaces_in_place(fmnist_import, tmp_path):
    dest, data_dir = fmnist_import
    again = import_dataset("fashion_mnist", DEBIAN_FMNIST, data_dir)
    assert again == dest
    assert_clean(data_dir, ["fashion_mnist"])


def _copy_debian(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for f in IDX_NAMES:
        shutil.copy(DEBIAN_FMNIST / f"{f}.gz", src / f"{f}.gz")
    return src


@needs_debian
def test_truncated_idx_refused_and_nothing_left(tmp_path):
    src = _copy_debian(tmp_path)
    # Uncompressed, truncated by one image.
    path = src / "train-images-idx3-ubyte"
    data = gzip.decompress((src / "train-images-idx3-ubyte.gz").read_bytes())
    (src / "train-images-idx3-ubyte.gz").unlink()
    path.write_bytes(data[:-784])
    with pytest.raises(DataImportError, match=rf"{path}: truncated"):
        import_dataset("fashion_mnist", src, tmp_path / "data")
    assert_clean(tmp_path / "data")


@needs_debian
def test_truncated_gzip_refused(tmp_path):
    src = _copy_debian(tmp_path)
    path = src / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100000])
    with pytest.raises(DataImportError, match=rf"{path}: truncated or corrupt gzip"):
        import_dataset("fashion_mnist", src, tmp_path / "data")
    assert_clean(tmp_path / "data")


@needs_debian
def test_wrong_magic_refused(tmp_path):
    src = _copy_debian(tmp_path)
    # Labels where images belong: a valid IDX file with the wrong magic number.
    shutil.copy(src / "train-labels-idx1-ubyte.gz", src / "train-images-idx3-ubyte.gz")
    with pytest.raises(
        DataImportError, match=r"train-images-idx3-ubyte\.gz: wrong magic number 0x00000801, expected 0x00000803"
    ):
        import_dataset("fashion_mnist", src, tmp_path / "data")
    assert_clean(tmp_path / "data")


@needs_debian
def test_altered_pixels_fail_the_fingerprint(tmp_path):
    src = _copy_debian(tmp_path)
    path = src / "t10k-images-idx3-ubyte.gz"
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[16 + 400] ^= 0xFF
    path.unlink()
    (src / "t10k-images-idx3-ubyte").write_bytes(bytes(data))
    with pytest.raises(DataImportError, match="not the canonical fashion_mnist files"):
        import_dataset("fashion_mnist", src, tmp_path / "data")
    assert_clean(tmp_path / "data")


@needs_debian
def test_failed_reimport_keeps_the_good_copy(fmnist_import, tmp_path):
    dest, data_dir = fmnist_import
    src = _copy_debian(tmp_path)
    (src / "train-labels-idx1-ubyte.gz").write_bytes(b"not an idx file")
    with pytest.raises(DataImportError, match="train-labels-idx1-ubyte.gz"):
        import_dataset("fashion_mnist", src, data_dir)
    assert_clean(data_dir, ["fashion_mnist"])
    assert read_imported("fashion_mnist", data_dir)[1]["raw_fingerprint"] == FASHION_MNIST_RAW_FINGERPRINT


@needs_debian
def test_tfds_builder_on_debian_files_gives_imported_arrays(fmnist_import, tmp_path):
    """TFDS's own fashion_mnist builder, run on the Debian files, yields the imported arrays.

    Only the download step is replaced, in this process (unittest.mock), by the gunzipped local
    files: it is what would fetch the archives and check their checksums, which Debian's
    recompression changes. The installed tensorflow_datasets package is not modified and no
    checksum is registered. TFDS then generates, shuffles (by key hash) and writes the dataset
    exactly as it would after a download; we read it back and compare every array.
    """
    import importlib.resources
    import importlib.resources.abc  # noqa: F401
    from unittest import mock

    # tensorflow_datasets 4.9.10 imports the `importlib_resources` backport lazily in
    # `code_path`; the standard library module offers the same `abc.Traversable`.
    sys.modules.setdefault("importlib_resources", importlib.resources)
    import tensorflow as tf

    tf.config.set_visible_devices([], "GPU")
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download import download_manager

    local = {}
    for key, stem in (
        ("train_data", IDX_NAMES[0]),
        ("train_labels", IDX_NAMES[1]),
        ("test_data", IDX_NAMES[2]),
        ("test_labels", IDX_NAMES[3]),
    ):
        local[key] = tmp_path / stem
        local[key].write_bytes(gzip.decompress((DEBIAN_FMNIST / f"{stem}.gz").read_bytes()))

    def download_and_extract(self, url_or_urls):
        return {k: str(local[k]) for k in url_or_urls}

    with mock.patch.object(download_manager.DownloadManager, "download_and_extract", download_and_extract):
        builder = tfds.builder("fashion_mnist", data_dir=str(tmp_path / "tfds"))
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    assert builder.info.full_name == "fashion_mnist/3.0.1"
    # Read it back through ntkbench's own TFDS path: the fingerprint covers every array, so equal
    # fingerprints mean the TFDS-prepared arrays equal the imported ones bit for bit.
    from ntkbench.data.images import load_image_dataset

    ds = load_image_dataset("fashion_mnist", tmp_path)
    assert ds.meta["source"] == "tfds" and ds.meta["tfds"] == "fashion_mnist/3.0.1"
    assert ds.fingerprint() == FASHION_MNIST_DATASET_FINGERPRINT
    imported = load_dataset("fashion_mnist", fmnist_import[1])
    np.testing.assert_array_equal(ds.y_train, imported.y_train)
    np.testing.assert_array_equal(ds.x_test, imported.x_test)
