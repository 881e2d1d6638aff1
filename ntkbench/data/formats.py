"""Readers of the original dataset files: IDX (MNIST, Fashion-MNIST; gzipped or not) and the
CIFAR binary version (archive or extracted folder). Each check refuses a malformed or truncated
file with a `DataImportError` naming it; `ntkbench.data.importer` verifies and stores the arrays.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from pathlib import Path

import numpy as np

from ntkbench.data.catalogue import IMAGE_DATASETS

IDX_FILES = {  # split -> (images file stem, labels file stem)
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = 0x00000803, 0x00000801

CIFAR_LAYOUT = {  # name -> (archive, folder inside, train files, test files, label bytes per record)
    "cifar10": (
        "cifar-10-binary.tar.gz",
        "cifar-10-batches-bin",
        [f"data_batch_{i}.bin" for i in range(1, 6)],
        ["test_batch.bin"],
        1,
    ),
    "cifar100": ("cifar-100-binary.tar.gz", "cifar-100-binary", ["train.bin"], ["test.bin"], 2),
}


class DataImportError(ValueError):
    """A source file is missing, malformed, truncated, or not the dataset it claims to be."""


# ----------------------------------------------------------------------------------------------
# Reading the source files


def _read_bytes(path: Path) -> bytes:
    """Whole content, gunzipped when the file starts with the gzip magic bytes."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataImportError(f"{path}: cannot read ({e.strerror or e})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise DataImportError(f"{path}: truncated or corrupt gzip stream ({e})") from None
    return raw


def _find_idx(folder: Path, stem: str) -> Path:
    for cand in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / cand).is_file():
            return folder / cand
    raise DataImportError(f"{folder}: missing {stem} (or {stem}.gz)")


def read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """An IDX ubyte file (optionally gzipped) as a uint8 array (N, *item_shape), fully checked."""
    data = _read_bytes(path)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < 4:
        raise DataImportError(f"{path}: truncated: {len(data)} bytes, not even an IDX magic number")
    got = int.from_bytes(data[:4], "big")
    if got != magic:
        kind = "IDX3 ubyte image file" if magic == IDX_IMAGES_MAGIC else "IDX1 ubyte label file"
        raise DataImportError(f"{path}: wrong magic number 0x{got:08x}, expected 0x{magic:08x} ({kind})")
    if len(data) < header:
        raise DataImportError(f"{path}: truncated IDX header ({len(data)} of {header} bytes)")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if dims[1:] != item_shape:
        raise DataImportError(f"{path}: IDX dimensions {dims}, expected (N, {', '.join(map(str, item_shape))})")
    expected = int(np.prod(dims))
    body = len(data) - header
    if body != expected:
        what = "truncated" if body < expected else "trailing bytes"
        raise DataImportError(f"{path}: {what}: header promises {dims} = {expected} bytes of data, found {body}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def _read_idx_source(name: str, source: Path) -> tuple[dict[str, np.ndarray], list[Path]]:
    spec = IMAGE_DATASETS[name]
    if source.is_file():
        source = source.parent
    if not source.is_dir():
        raise DataImportError(f"{source}: no such folder (expected the four {name} IDX files)")
    arrays, files = {}, []
    for split, (img_stem, lab_stem) in IDX_FILES.items():
        img_path, lab_path = _find_idx(source, img_stem), _find_idx(source, lab_stem)
        x = read_idx(img_path, IDX_IMAGES_MAGIC, spec.shape[:2])
        y = read_idx(lab_path, IDX_LABELS_MAGIC, ())
        if len(x) != len(y):
            raise DataImportError(f"{lab_path}: {len(y)} labels for {len(x)} images in {img_path}")
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x[..., None], y
        files += [img_path, lab_path]
    return arrays, files


def _cifar_records(path_label: str, data: bytes, label_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    rec = label_bytes + 3072
    if len(data) == 0 or len(data) % rec:
        raise DataImportError(
            f"{path_label}: {len(data)} bytes is not a whole number of {rec}-byte CIFAR records"
            " (truncated or not the binary version)"
        )
    table = np.frombuffer(data, np.uint8).reshape(-1, rec)
    # Label = the last label byte (CIFAR-100: coarse, fine -> fine), as TFDS's "label" feature.
    labels = table[:, label_bytes - 1].copy()
    images = table[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _read_cifar_source(name: str, source: Path) -> tuple[dict[str, np.ndarray], list[Path]]:
    archive_name, folder_name, train_files, test_files, label_bytes = CIFAR_LAYOUT[name]
    if source.is_dir() and (source / archive_name).is_file():
        source = source / archive_name
    contents: dict[str, bytes] = {}
    if source.is_file():
        try:
            with tarfile.open(source, "r:*") as tar:
                members = {
                    Path(m.name).name: m
                    for m in tar.getmembers()
                    if m.isfile() and Path(m.name).parent.name == folder_name
                }
                for fname in train_files + test_files:
                    if fname not in members:
                        raise DataImportError(f"{source}: archive has no {folder_name}/{fname}")
                    member = tar.extractfile(members[fname])
                    if member is None:  # not possible for a regular file (m.isfile() above)
                        raise DataImportError(f"{source}: {folder_name}/{fname} in the archive is not a regular file")
                    contents[fname] = member.read()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            raise DataImportError(f"{source}: truncated or unreadable archive ({e})") from None
        label_of = lambda f: f"{source}:{folder_name}/{f}"  # noqa: E731
        files = [source]
    elif source.is_dir():
        folder = source / folder_name if (source / folder_name).is_dir() else source
        for fname in train_files + test_files:
            if not (folder / fname).is_file():
                raise DataImportError(
                    f"{folder}: missing {fname} (expected the {folder_name} folder or {archive_name})"
                )
            contents[fname] = _read_bytes(folder / fname)
        label_of = lambda f: str(folder / f)  # noqa: E731
        files = [folder / f for f in train_files + test_files]
    else:
        raise DataImportError(f"{source}: no such file or folder (expected {archive_name} or {folder_name}/)")
    arrays = {}
    for split, fnames in (("train", train_files), ("test", test_files)):
        parts = [_cifar_records(label_of(f), contents[f], label_bytes) for f in fnames]
        arrays[f"x_{split}"] = np.concatenate([p[0] for p in parts])
        arrays[f"y_{split}"] = np.concatenate([p[1] for p in parts])
    return arrays, files
