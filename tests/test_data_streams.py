"""Continual-learning streams: deterministic, and each transform does what the forgetting protocol says
(`ntkbench/tasks/forgetting/__init__.py`)."""

import numpy as np
import pytest

from ntkbench.data.base import Dataset
from ntkbench.data.streams import Stream, make_stream, permuted_stream, rotate_images, rotated_stream, split_stream


def image_ds(n_train=60, n_test=30, shape=(8, 8, 1), num_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return Dataset(
        name="toy",
        x_train=rng.random((n_train, *shape), dtype=np.float32),
        y_train=(np.arange(n_train) % num_classes).astype(np.int32),
        x_test=rng.random((n_test, *shape), dtype=np.float32),
        y_test=(np.arange(n_test) % num_classes).astype(np.int32),
        num_classes=num_classes,
    )


def test_permuted_task1_identity_and_fixed_permutations():
    ds = image_ds()
    s = permuted_stream(ds, num_tasks=4, seed=3)
    assert isinstance(s, Stream) and s.num_tasks == 4 and s.setting == "domain-il"
    assert [t.index for t in s] == [1, 2, 3, 4]
    np.testing.assert_array_equal(s[0].x_train, ds.x_train)
    np.testing.assert_array_equal(s[0].x_test, ds.x_test)
    perms = s.meta["permutations"]
    np.testing.assert_array_equal(perms[0], np.arange(64))
    for t in range(1, 4):
        p = perms[t]
        assert sorted(p.tolist()) == list(range(64)) and not np.array_equal(p, np.arange(64))
        # The same permutation for train and test, and labels untouched.
        np.testing.assert_array_equal(s[t].x_train.reshape(60, 64), ds.x_train.reshape(60, 64)[:, p])
        np.testing.assert_array_equal(s[t].x_test.reshape(30, 64), ds.x_test.reshape(30, 64)[:, p])
        np.testing.assert_array_equal(s[t].y_train, ds.y_train)
        assert s[t].classes == tuple(range(10)) and s.logit_mask(t).all()
    assert len({tuple(p) for p in perms}) == 4


def test_permuted_is_deterministic_and_seeded():
    ds = image_ds()
    a, b = permuted_stream(ds, 3, seed=1), permuted_stream(ds, 3, seed=1)
    c = permuted_stream(ds, 3, seed=2)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    # Task t's permutation does not depend on how many tasks follow it.
    np.testing.assert_array_equal(permuted_stream(ds, 5, seed=1)[2].x_train, a[2].x_train)


def test_permuted_moves_channels_together_and_works_on_1d():
    ds = image_ds(shape=(4, 4, 3))
    s = permuted_stream(ds, 2, seed=0)
    p = s.meta["permutations"][1]
    np.testing.assert_array_equal(s[1].x_train.reshape(60, 16, 3), ds.x_train.reshape(60, 16, 3)[:, p])
    one_d = image_ds(shape=(40, 1))
    s1 = permuted_stream(one_d, 3, seed=0)
    assert s1[2].x_train.shape == (60, 40, 1)


def test_rotation_by_zero_is_identity_and_90_matches_rot90():
    ds = image_ds(shape=(9, 9, 2))
    np.testing.assert_array_equal(rotate_images(ds.x_train, 0.0), ds.x_train)
    # Counter-clockwise as displayed == np.rot90 over (H, W); bilinear is exact up to rounding.
    np.testing.assert_allclose(rotate_images(ds.x_train, 90.0), np.rot90(ds.x_train, 1, axes=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(rotate_images(ds.x_train, -90.0), np.rot90(ds.x_train, -1, axes=(1, 2)), atol=1e-5)


def test_rotation_bilinear_zero_fill():
    x = np.zeros((1, 5, 5, 1), np.float32)
    x[0, 2, 2, 0] = 1.0  # the centre is fixed by any rotation
    np.testing.assert_allclose(rotate_images(x, 37.0)[0, 2, 2, 0], 1.0, atol=1e-6)
    ones = np.ones((1, 6, 6, 1), np.float32)
    r = rotate_images(ones, 45.0)[0, ..., 0]
    assert r[0, 0] == 0.0  # corners come from outside the source: zero fill
    assert np.all(r >= 0) and np.all(r <= 1 + 1e-6)
    np.testing.assert_allclose(r[2:4, 2:4], 1.0, atol=1e-6)  # inside: interpolation of ones


def test_rotated_stream_angles():
    ds = image_ds(shape=(8, 8, 1))
    s = rotated_stream(ds, num_tasks=3, theta_deg=15, seed=0)
    assert [t.meta["angle_deg"] for t in s] == [0.0, 15.0, 30.0]
    np.testing.assert_array_equal(s[0].x_train, ds.x_train)
    np.testing.assert_array_equal(s[2].x_test, rotate_images(ds.x_test, 30.0))
    assert s.fingerprint() == rotated_stream(ds, num_tasks=3, theta_deg=15, seed=0).fingerprint()


def test_rotated_refuses_1d_data():
    with pytest.raises(ValueError, match="1-D data cannot be rotated"):
        rotated_stream(image_ds(shape=(40, 1)), 3)


@pytest.mark.parametrize("setting", ["task-il", "class-il"])
def test_split_classes_partition(setting):
    ds = image_ds()
    s = split_stream(ds, num_tasks=5, seed=0, setting=setting)
    assert s.setting == setting and [t.classes for t in s] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    seen = sorted(c for t in s for c in t.classes)
    assert seen == list(range(10))
    assert sum(len(t.y_train) for t in s) == len(ds.y_train)
    assert sum(len(t.y_test) for t in s) == len(ds.y_test)
    for t in s:
        assert set(np.unique(t.y_train)) == set(t.classes) == set(np.unique(t.y_test))
        np.testing.assert_array_equal(t.class_mask, np.isin(np.arange(10), t.classes))
    masks = s.logit_masks()
    if setting == "task-il":
        np.testing.assert_array_equal(masks, np.stack([t.class_mask for t in s]))
        assert masks.sum() == 10
    else:
        assert masks.all()


def test_split_seeded_class_order():
    ds = image_ds()
    a = split_stream(ds, 5, seed=7, shuffle_classes=True)
    b = split_stream(ds, 5, seed=7, shuffle_classes=True)
    c = split_stream(ds, 5, seed=8, shuffle_classes=True)
    assert a.meta["task_classes"] == b.meta["task_classes"] != c.meta["task_classes"]
    assert sorted(c for t in a for c in t.classes) == list(range(10))
    assert a.meta["class_order"] != list(range(10))


def test_split_uneven_and_errors():
    ds = image_ds()
    s = split_stream(ds, 3)
    assert [len(t.classes) for t in s] == [4, 3, 3]
    with pytest.raises(ValueError, match="num_tasks must be in 1..10"):
        split_stream(ds, 11)
    with pytest.raises(ValueError, match="setting"):
        split_stream(ds, 5, setting="domain-il")


def test_make_stream_and_task_as_dataset():
    s = make_stream("split", image_ds(), num_tasks=2, setting="class-il")
    d = s[1].as_dataset()
    assert isinstance(d, Dataset) and d.meta["classes"] == [5, 6, 7, 8, 9]
    with pytest.raises(KeyError, match="unknown stream"):
        make_stream("shuffled", image_ds())


def test_transformed_inputs_are_computed_once_on_access():
    ds = image_ds()
    s = rotated_stream(ds, num_tasks=3, theta_deg=20)
    task = s[2]
    assert "x_train" not in vars(task)  # nothing computed while building the stream
    first = task.x_train
    assert task.x_train is first  # then kept
    assert s[0].x_train is ds.x_train  # task 1 shares the source arrays
    t = make_stream("permuted", ds, num_tasks=2)[1]
    assert t.input_shape == ds.input_shape


def test_task_from_arrays():
    from ntkbench.data.streams import Task

    ds = image_ds()
    t = Task.from_arrays("x", 1, ds.x_train, ds.y_train, ds.x_test, ds.y_test, [3, 1], 10)
    assert t.x_train is ds.x_train and t.classes == (3, 1) and t.class_mask.sum() == 2
    assert t.fingerprint() == ds.fingerprint()
