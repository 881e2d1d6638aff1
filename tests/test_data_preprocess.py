"""standardise and zca_whiten: fitted on the training split only, recorded in meta."""

import numpy as np
import pytest

from ntkbench.data.base import Dataset
from ntkbench.data.preprocess import standardise, zca_whiten


def make_ds(shape=(6, 6, 3), n_train=400, n_test=100, seed=0):
    rng = np.random.default_rng(seed)
    scale = np.array([1.0, 3.0, 0.5], np.float32)[: shape[-1]]
    x_train = (rng.standard_normal((n_train, *shape)) * scale + 2.0).astype(np.float32)
    # The test split is deliberately shifted: statistics fitted on it would differ.
    x_test = (rng.standard_normal((n_test, *shape)) * 5.0 - 7.0).astype(np.float32)
    y = lambda n: (np.arange(n) % 10).astype(np.int32)  # noqa: E731
    return Dataset(
        "toy",
        x_train,
        y(n_train),
        x_test,
        y(n_test),
        10,
        meta={"normalisation": "none", "source": "test", "fingerprint": "stale"},
    )


def test_standardise_fits_on_train_only():
    ds = make_ds()
    out = standardise(ds)
    axes = (0, 1, 2)
    np.testing.assert_allclose(out.x_train.mean(axis=axes), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.x_train.std(axis=axes), 1.0, atol=1e-4)
    mean = ds.x_train.astype(np.float64).mean(axis=axes)
    std = ds.x_train.astype(np.float64).std(axis=axes)
    np.testing.assert_allclose(out.x_test, (ds.x_test - mean) / std, rtol=1e-5, atol=1e-5)
    assert abs(out.x_test.mean()) > 1.0  # test statistics were not used
    # Changing the test split changes nothing about the transform.
    other = standardise(ds.replace(x_test=ds.x_test * 0 + 100))
    np.testing.assert_array_equal(other.x_train, out.x_train)
    step = out.meta["preprocess"][-1]
    assert step["op"] == "standardise" and step["fit_on"] == "train"
    np.testing.assert_allclose(step["mean"], mean)
    assert out.meta["normalisation"].startswith("none; then per-channel standardisation")
    assert out.meta["fingerprint"] == out.fingerprint() != ds.fingerprint()
    assert ds.meta["fingerprint"] == "stale"  # the input is untouched
    assert out.x_train.dtype == np.float32


def test_zca_whitens_train_and_reuses_train_fit():
    ds = make_ds(shape=(4, 4, 1), n_train=2000)
    out = zca_whiten(ds, eps=0.0)
    flat = out.x_train.reshape(len(out.x_train), -1).astype(np.float64)
    np.testing.assert_allclose(flat.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(flat, rowvar=False, bias=True), np.eye(16), atol=1e-3)
    # The ZCA matrix is symmetric (zero-phase) and is the train one applied to test.
    xt = ds.x_train.reshape(2000, -1).astype(np.float64)
    mu = xt.mean(0)
    c = np.cov(xt, rowvar=False, bias=True)
    lam, u = np.linalg.eigh(c)
    w = u @ np.diag(lam**-0.5) @ u.T
    np.testing.assert_allclose(out.x_test.reshape(100, -1), (ds.x_test.reshape(100, -1) - mu) @ w, rtol=1e-4, atol=1e-3)
    other = zca_whiten(ds.replace(x_test=ds.x_test * 3), eps=0.0)
    np.testing.assert_array_equal(other.x_train, out.x_train)
    step = out.meta["preprocess"][-1]
    assert step["op"] == "zca_whiten" and step["fit_on"] == "train" and step["eps"] == 0.0


def test_zca_regularisation_is_relative_and_recorded():
    ds = make_ds(shape=(3, 3, 1))
    a = zca_whiten(ds, eps=0.1)
    b = zca_whiten(ds.replace(x_train=ds.x_train * 10, x_test=ds.x_test * 10), eps=0.1)
    np.testing.assert_allclose(a.x_train, b.x_train, rtol=1e-4, atol=1e-4)  # scale-free
    assert "ZCA whitening fitted on train (eps=0.1" in a.meta["normalisation"]
    assert a.meta["preprocess"][-1]["regulariser"] > 0
    chained = standardise(a)
    assert [s["op"] for s in chained.meta["preprocess"]] == ["zca_whiten", "standardise"]
    with pytest.raises(ValueError, match="eps must be >= 0"):
        zca_whiten(ds, eps=-1)
