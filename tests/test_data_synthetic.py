"""Generated datasets: MNIST-1D is generated once per data folder and read back bit for bit."""

import numpy as np
import pytest

from ntkbench.data import synthetic


def test_mnist1d_is_generated_once_then_read_from_the_data_folder(tmp_path, monkeypatch):
    import mnist1d.data

    first = synthetic.load_mnist1d("mnist1d", tmp_path)
    (path,) = (tmp_path / "generated").glob("*.npz")

    def no_generation(*args, **kwargs):
        raise AssertionError("MNIST-1D generated again although its file is there")

    monkeypatch.setattr(mnist1d.data, "make_dataset", no_generation)
    again = synthetic.load_mnist1d("mnist1d", tmp_path)
    assert again.fingerprint() == first.fingerprint()
    np.testing.assert_array_equal(again.x_test, first.x_test)

    path.write_bytes(b"not an npz")  # a broken file: generated again, and rewritten whole
    with pytest.raises(AssertionError, match="generated again"):
        synthetic.load_mnist1d("mnist1d", tmp_path)
    monkeypatch.undo()
    assert synthetic.load_mnist1d("mnist1d", tmp_path).fingerprint() == first.fingerprint()
    assert synthetic.load_mnist1d("mnist1d", tmp_path).fingerprint() == first.fingerprint()
    assert [p.name for p in (tmp_path / "generated").iterdir()] == [path.name]  # no partial file left
