"""Damaged data is never used: a generated file that fails its fingerprint is generated again (one
line on stderr), an imported copy that fails is refused naming the file and the re-import."""

import json
import os
import re
import shutil
from pathlib import Path

import mnist1d.data
import numpy as np
import pytest
from test_data_import import fake_mnist

from ntkbench.data import load_dataset, synthetic
from ntkbench.data.generated import FINGERPRINT_KEY
from ntkbench.data.importer import DataImportError, import_dataset

KEYS = ("x", "y", "x_test", "y_test")

# ---------------------------------------------------------------------------------------------
# generated: MNIST-1D in <data_dir>/generated/


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """(the MNIST-1D file as generated, its arrays, its Dataset fingerprint), generated once."""
    data_dir = tmp_path_factory.mktemp("generated")
    fingerprint = synthetic.load_mnist1d("mnist1d", data_dir).fingerprint()
    (path,) = (data_dir / "generated").glob("*.npz")
    with np.load(path) as f:
        arrays = {k: f[k] for k in KEYS}
    return path, arrays, fingerprint


@pytest.fixture
def generations(monkeypatch, generated):
    """Counts the generations; each gives the arrays mnist1d generated in `generated` (2 s saved)."""
    calls = []

    def make_dataset(args):
        calls.append(args)
        return {k: v.copy() for k, v in generated[1].items()}

    monkeypatch.setattr(mnist1d.data, "make_dataset", make_dataset)
    return calls


def truncated(path: Path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def emptied(path: Path):
    path.write_bytes(b"")


def labels_zeroed(path: Path):
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["y"] = np.zeros_like(arrays["y"])  # a readable file whose labels are all class 0
    np.savez(path, **arrays)


def fingerprint_dropped(path: Path):
    with np.load(path) as f:
        arrays = {k: f[k] for k in KEYS}  # the arrays as an older ntkbench wrote them
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (truncated, "unreadable (BadZipFile"),
        (emptied, "unreadable (EOFError"),
        (labels_zeroed, "do not match the fingerprint recorded when it was generated"),
        (fingerprint_dropped, "no fingerprint recorded in it"),
    ],
)
def test_a_damaged_generated_file_is_generated_again(damage, why, generated, generations, tmp_path, capsys):
    good_file, _, good_fingerprint = generated
    path = tmp_path / "generated" / good_file.name
    path.parent.mkdir()
    shutil.copyfile(good_file, path)
    damage(path)
    ds = synthetic.load_mnist1d("mnist1d", tmp_path)
    assert len(generations) == 1
    assert ds.fingerprint() == good_fingerprint  # the generated arrays, not the damaged ones
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"warning: {path}: ") and why in lines[0], lines
    assert lines[0].endswith("generating it again")
    # the file is whole again: read back, fingerprint checked, nothing generated, nothing said
    assert synthetic.load_mnist1d("mnist1d", tmp_path).fingerprint() == good_fingerprint
    assert len(generations) == 1 and capsys.readouterr().err == ""
    with np.load(path) as f:
        assert FINGERPRINT_KEY in f.files
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left


def test_an_intact_generated_file_is_read_without_generating(generated, generations, tmp_path, capsys):
    good_file, _, good_fingerprint = generated
    (tmp_path / "generated").mkdir()
    shutil.copyfile(good_file, tmp_path / "generated" / good_file.name)
    assert synthetic.load_mnist1d("mnist1d", tmp_path).fingerprint() == good_fingerprint
    assert generations == [] and capsys.readouterr().err == ""


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_generated_files_are_readable_as_the_umask_allows(umask, mode, generations, tmp_path):
    old = os.umask(umask)
    try:
        synthetic.load_mnist1d("mnist1d", tmp_path)
    finally:
        os.umask(old)
    (path,) = (tmp_path / "generated").iterdir()
    assert path.stat().st_mode & 0o777 == mode  # as a result file, not mkstemp's 0600


# ---------------------------------------------------------------------------------------------
# imported: <data_dir>/imported/<name>/, written by `ntkbench data import`


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """(a data dir holding an imported MNIST-shaped copy, the folder it was imported from)."""
    root = tmp_path_factory.mktemp("imported")
    fake_mnist(root / "source dir", compress=False)
    import_dataset("mnist", root / "source dir", root / "data")
    return root / "data", root / "source dir"


@pytest.fixture
def imported_copy(imported, tmp_path):
    """A fresh copy of the imported data dir (load_dataset caches per data dir)."""
    data_dir, source = imported
    shutil.copytree(data_dir, tmp_path / "data")
    return tmp_path / "data", tmp_path / "data" / "imported" / "mnist", source


def zero_labels(path: Path):
    np.save(path, np.zeros_like(np.load(path)), allow_pickle=False)


@pytest.mark.parametrize(
    ("file", "damage"),
    [
        ("y_train.npy", zero_labels),
        ("x_test.npy", emptied),
        ("x_train.npy", truncated),
    ],
)
def test_a_damaged_import_is_refused_naming_the_file_and_the_reimport(file, damage, imported_copy):
    data_dir, folder, source = imported_copy
    damage(folder / file)
    with pytest.raises(DataImportError) as err:
        load_dataset("mnist", data_dir)
    message = str(err.value)
    assert message.startswith(f"{folder / file}: ") and "\n" not in message, message
    # the remedy names the import command with the source the copy was imported from (quoted: a space)
    assert message.endswith(f"re-run `ntkbench data import mnist --from '{source}'`"), message


def test_an_intact_import_loads_with_its_fingerprint(imported_copy):
    data_dir, folder, _ = imported_copy
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["array_fingerprints"]) == ["x_test.npy", "x_train.npy", "y_test.npy", "y_train.npy"]
    assert load_dataset("mnist", data_dir).fingerprint() == manifest["dataset_fingerprint"]


def test_an_older_import_is_still_checked_as_a_whole(imported_copy):
    data_dir, folder, source = imported_copy
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["array_fingerprints"]  # as written before per-file fingerprints
    (folder / "manifest.json").write_text(json.dumps(manifest))
    zero_labels(folder / "y_test.npy")
    refused = f"^{re.escape(str(folder))}: arrays .* do not match their manifest fingerprint"
    with pytest.raises(DataImportError, match=refused):
        load_dataset("mnist", data_dir)
