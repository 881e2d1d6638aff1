"""Import the original dataset files into `<data_dir>/imported/<name>/`, verified.

    import_dataset(name, source_path, data_dir=None) -> Path
    list_available(data_dir=None) -> list[dict]
    DataImportError(ValueError)          one-line message that names the offending file

Sources
-------
- `mnist`, `fashion_mnist`: a folder holding the four IDX files `train-images-idx3-ubyte`,
  `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each gzipped
  (`.gz`) or not (gzip is recognised by its magic bytes, not by the name). Debian's
  `dataset-fashion-mnist` puts them in /usr/share/datasets/fashion-mnist.
- `cifar10`, `cifar100`: the binary version, as `cifar-10-binary.tar.gz` /
  `cifar-100-binary.tar.gz`, or the extracted `cifar-10-batches-bin` / `cifar-100-binary` folder
  (or a folder that holds one of these).

Checks: IDX magic numbers (0x00000803 images, 0x00000801 labels), dimensions, exact byte counts
(a truncated file or gzip stream is refused), example counts, label ranges, per-class counts, and
the fingerprint of the decoded uint8 arrays where one is known (Fashion-MNIST). Where no array
fingerprint is known (MNIST, CIFAR), the sha256 of the original archives is compared with the
checksums TFDS registers for its downloads; files that match neither (recompressed, extracted)
are imported with `verified: "structure"` recorded, never silently as verified.

Example order = TFDS's order
----------------------------
TFDS does not keep the order of the original files: its writer sorts the examples of a split by
`md5(split_name + str(key))` (tensorflow_datasets/core/hashing.py, salt = split name, in
core/shuffle.py) and the mnist/cifar builders use the running example index as key. The importer
applies the same permutation, so an imported copy gives exactly the arrays (and
`Dataset.fingerprint()`) of a TFDS load of the same version.

How the Fashion-MNIST fingerprint was established
-------------------------------------------------
The Debian files were decoded here and permuted as above (FASHION_MNIST_RAW_FINGERPRINT, over the
uint8 images (N, 28, 28, 1) and uint8 labels of train then test). The same arrays were produced
by TFDS itself: TFDS's own `fashion_mnist` builder (3.0.1) was run with
`download_and_prepare(DownloadConfig(try_download_gcs=False))` on the gunzipped Debian files, with
only `DownloadManager.download_and_extract` patched in-process (unittest.mock) to return the
local paths, which is the step that would fetch and checksum the archives; nothing in the
installed package is changed and `register_checksums` is never used. Reading that prepared
dataset back with `as_dataset(shuffle_files=False)` gives arrays equal to the imported ones, bit
for bit. tests/test_data_import.py::test_tfds_builder_on_debian_files_gives_imported_arrays
repeats this whenever the Debian files are installed.

Layout of an imported copy: `x_train.npy`, `y_train.npy`, `x_test.npy`, `y_test.npy` (uint8,
loaded memory-mapped with `allow_pickle=False`) and `manifest.json`, which records the fingerprint
of each array file (`array_fingerprints`), checked at every load: a damaged copy is refused with
the file named and the re-import command, never used. It is written to a temporary folder beside
the destination and renamed into place, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ntkbench.data.base import fingerprint_arrays
from ntkbench.data.catalogue import IMAGE_DATASETS, make_dataset, tfds_prepared
from ntkbench.data.formats import (  # noqa: F401
    CIFAR_LAYOUT,
    IDX_FILES,
    DataImportError,
    _read_bytes,
    _read_cifar_source,
    _read_idx_source,
    read_idx,
)
from ntkbench.data.registry import default_data_dir

FORMAT_VERSION = 1
ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")

# fingerprint_arrays(x_train, y_train, x_test, y_test) of the uint8 arrays in TFDS order
# (images (N, 28, 28, 1), labels (N,)), established as described in the module docstring.
FASHION_MNIST_RAW_FINGERPRINT = "sha256:759f734fbd430f263177ac64ab865348df33dd339c23d50eec8bac9e0efd7927"
# Dataset.fingerprint() of load_dataset("fashion_mnist"): float32 x / 255, int32 labels.
FASHION_MNIST_DATASET_FINGERPRINT = "sha256:5706a768af6cd3fe1fdcdaa895877fcdc24e6a28fdc900bb91292bab3ca9499a"

KNOWN_RAW_FINGERPRINTS = {"fashion_mnist": FASHION_MNIST_RAW_FINGERPRINT}

# sha256 of the original archives, as registered by tensorflow_datasets 4.9 for its downloads
# (tensorflow_datasets/url_checksums/{mnist,fashion_mnist,cifar10,cifar100}.txt).
ORIGINAL_ARCHIVE_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "cifar10": {"cifar-10-binary.tar.gz": "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"},
    "cifar100": {"cifar-100-binary.tar.gz": "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"},
}

# Examples per class (train, test), a cheap authenticity check on the labels.
CLASS_COUNTS = {
    "mnist": (
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    ),
    "fashion_mnist": ([6000] * 10, [1000] * 10),
    "cifar10": ([5000] * 10, [1000] * 10),
    "cifar100": ([500] * 100, [100] * 100),
}


def imported_dir(data_dir: str | Path | None) -> Path:
    return Path(data_dir if data_dir else default_data_dir()) / "imported"


# ----------------------------------------------------------------------------------------------
# TFDS example order


def tfds_order(split: str, n: int) -> np.ndarray:
    """The permutation TFDS's writer applies to examples keyed 0..n-1 of `split`.

    TFDS sorts by the 128-bit md5 of (salt = split name) + str(key); see the module docstring.
    """
    base = hashlib.md5(split.encode())

    def key(i: int) -> int:
        h = base.copy()
        h.update(str(i).encode())
        return int.from_bytes(h.digest(), "big")

    return np.array(sorted(range(n), key=key), dtype=np.int64)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# Import


def _check_arrays(name: str, arrays: dict[str, np.ndarray], files: list[Path]) -> None:
    spec = IMAGE_DATASETS[name]
    where = files[0].parent if len(files) > 1 else files[0]
    for split, n in (("train", spec.num_train), ("test", spec.num_test)):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape != (n, *spec.shape) or y.shape != (n,):
            raise DataImportError(
                f"{where}: {split} split has images {x.shape} and labels {y.shape}, "
                f"expected ({n}, {', '.join(map(str, spec.shape))}) and ({n},) for {name}"
            )
        if int(y.max()) >= spec.num_classes:
            raise DataImportError(
                f"{where}: {split} labels reach {int(y.max())}, {name} has {spec.num_classes} classes"
            )
        want = CLASS_COUNTS.get(name, (None, None))[split == "test"]
        if want is not None:
            got = np.bincount(y, minlength=spec.num_classes).tolist()
            if got != want:
                raise DataImportError(f"{where}: {split} examples per class {got} differ from {name}'s {want}")


def import_dataset(name: str, source_path: str | Path, data_dir: str | Path | None = None) -> Path:
    """Decode, verify and store the original files of `name`; returns the imported folder.

    Replaces an earlier import of the same name only once the new one is complete. Raises
    `DataImportError` (one line, naming the file) for anything wrong with the source.
    """
    if name not in IMAGE_DATASETS or not IMAGE_DATASETS[name].importable:
        importable = sorted(n for n, s in IMAGE_DATASETS.items() if s.importable)
        raise DataImportError(f"cannot import {name!r}: importable datasets are {', '.join(importable)}")
    spec = IMAGE_DATASETS[name]
    source = Path(source_path).expanduser().resolve()
    if name in ("mnist", "fashion_mnist"):
        arrays, files = _read_idx_source(name, source)
    else:
        arrays, files = _read_cifar_source(name, source)
    _check_arrays(name, arrays, files)
    for split in ("train", "test"):
        order = tfds_order(split, len(arrays[f"y_{split}"]))
        arrays[f"x_{split}"] = np.ascontiguousarray(arrays[f"x_{split}"][order])
        arrays[f"y_{split}"] = np.ascontiguousarray(arrays[f"y_{split}"][order])
    raw_fp = fingerprint_arrays(*(arrays[k] for k in ARRAY_NAMES))

    sources: list[dict[str, Any]] = [
        {"path": str(f), "bytes": f.stat().st_size, "sha256": _sha256_file(f)} for f in files
    ]
    originals = ORIGINAL_ARCHIVE_SHA256.get(name, {})
    archives_match = (
        bool(originals)
        and len(sources) == len(originals)
        and all(originals.get(Path(s["path"]).name) == s["sha256"] for s in sources)
    )
    known = KNOWN_RAW_FINGERPRINTS.get(name)
    if known is not None:
        if raw_fp != known:
            raise DataImportError(
                f"{source}: decoded {name} arrays have fingerprint {raw_fp}, not the known "
                f"{known}: these are not the canonical {name} files"
            )
        verified = "fingerprint"
    elif archives_match:
        verified = "archive-sha256"
    else:
        verified = "structure"

    dest_root = imported_dir(data_dir)
    dest_root.mkdir(parents=True, exist_ok=True)
    dest = dest_root / name
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=dest_root))
    try:
        for k in ARRAY_NAMES:
            np.save(tmp / f"{k}.npy", arrays[k], allow_pickle=False)
        ds = make_dataset(name, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], meta={})
        manifest = {
            "format": "ntkbench-imported",
            "format_version": FORMAT_VERSION,
            "name": name,
            "tfds_equivalent": spec.tfds,
            "order": "TFDS writer order: examples sorted by md5(split + str(index))",
            "source_path": str(source),
            "source_files": sources,
            "verified": verified,
            "raw_fingerprint": raw_fp,
            # One per file, checked at every load: a damaged copy is refused naming its file.
            "array_fingerprints": {f"{k}.npy": fingerprint_arrays(arrays[k]) for k in ARRAY_NAMES},
            "dataset_fingerprint": ds.fingerprint(),
            "normalisation": ds.meta["normalisation"],
            "shapes": {k: list(arrays[k].shape) for k in ARRAY_NAMES},
            "imported_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        os.chmod(tmp, 0o755)
        old = None
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old-", dir=dest_root))
            os.replace(dest, old / name)
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


# ----------------------------------------------------------------------------------------------
# Reading an imported copy, listing


def read_manifest(name: str, data_dir: str | Path | None) -> dict[str, Any] | None:
    path = imported_dir(data_dir) / name / "manifest.json"
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataImportError(
            f"{path}: unreadable manifest ({e}); re-run `ntkbench data import {name} --from PATH`"
        ) from None
    if manifest.get("format") != "ntkbench-imported" or manifest.get("format_version") != FORMAT_VERSION:
        raise DataImportError(
            f"{path}: not an ntkbench import of format {FORMAT_VERSION}; "
            f"re-run `ntkbench data import {name} --from PATH`"
        )
    manifest["dest"] = str(path.parent)
    return manifest


def reimport_command(name: str, manifest: dict[str, Any] | None = None) -> str:
    """The command that repairs an imported copy: the import again, from the recorded source."""
    source = (manifest or {}).get("source_path")
    return f"ntkbench data import {name} --from {shlex.quote(source) if source else 'PATH'}"


def read_imported(name: str, data_dir: str | Path | None, verify: bool = True):
    """(uint8 arrays memory-mapped, manifest) of an imported copy, or None when there is none.

    With `verify`, each array must hash to the fingerprint the import recorded for its file
    (`array_fingerprints`; an import that predates them: all four to `raw_fingerprint`), so a
    damaged copy (a truncated file, zeroed labels) is refused with a `DataImportError` naming
    the file and the command that imports it again, never loaded (~0.1 s for Fashion-MNIST).
    """
    manifest = read_manifest(name, data_dir)
    if manifest is None:
        return None
    folder = Path(manifest["dest"])
    remedy = f"re-run `{reimport_command(name, manifest)}`"
    arrays = {}
    for k in ARRAY_NAMES:
        try:
            arrays[k] = np.load(folder / f"{k}.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, EOFError, ValueError) as e:  # EOFError: an empty file
            raise DataImportError(f"{folder / (k + '.npy')}: unreadable ({e}); {remedy}") from None
    if verify:
        recorded = manifest.get("array_fingerprints")
        if isinstance(recorded, dict):
            for k in ARRAY_NAMES:
                if fingerprint_arrays(arrays[k]) != recorded.get(f"{k}.npy"):
                    raise DataImportError(
                        f"{folder / (k + '.npy')}: does not match the fingerprint recorded when it was "
                        f"imported (a damaged copy); {remedy}"
                    )
        elif fingerprint_arrays(*(arrays[k] for k in ARRAY_NAMES)) != manifest["raw_fingerprint"]:
            raise DataImportError(
                f"{folder}: arrays ({', '.join(k + '.npy' for k in ARRAY_NAMES)}) do not match their "
                f"manifest fingerprint (a damaged copy); {remedy}"
            )
    return arrays, manifest


def list_available(data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per named image dataset: name, status (imported/tfds/missing), source, fingerprint.

    `fingerprint` is the `Dataset.fingerprint()` a load gives, where known without loading (an
    imported copy records it); `verified` says how an import was checked. Never imports TF.
    """
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    rows = []
    for name, spec in IMAGE_DATASETS.items():
        row: dict[str, Any] = {
            "name": name,
            "status": "missing",
            "source": None,
            "fingerprint": None,
            "tfds": spec.tfds,
            "verified": None,
            "importable": spec.importable,
        }
        try:
            manifest = read_manifest(name, data_dir)
        except DataImportError as e:
            manifest = None
            row["error"] = str(e)
        prepared = tfds_prepared(name, data_dir)
        if manifest is not None:
            row.update(
                status="imported",
                source=manifest["source_path"],
                path=manifest["dest"],
                fingerprint=manifest["dataset_fingerprint"],
                verified=manifest["verified"],
            )
        elif prepared is not None:
            row.update(
                status="tfds", source=str(prepared), path=str(prepared), tfds=f"{prepared.parent.name}/{prepared.name}"
            )
        rows.append(row)
    return rows
