"""Task streams for continual learning, built from any `Dataset`; the protocol that uses them is
the `forgetting` task's, in `ntkbench/tasks/forgetting/__init__.py`.

    permuted_stream(ds, num_tasks=10, seed=0)                 -> Stream  (setting "domain-il")
    rotated_stream(ds, num_tasks=10, theta_deg=10.0, seed=0)  -> Stream  (setting "domain-il")
    split_stream(ds, num_tasks=5, seed=0, setting="task-il", shuffle_classes=False) -> Stream

A `Stream` is a frozen, ordered tuple of `Task`s plus what a learner and the harness need:

    Stream.name         "permuted" | "rotated" | "split"
    Stream.dataset      name of the source dataset
    Stream.tasks        tuple[Task, ...], task 1 first (Python index 0)
    Stream.num_classes  size of the shared label space (labels are always global class ids)
    Stream.setting      "domain-il" (one shared head, every class in every task),
                        "task-il" (the learner is told the task and predicts among its classes),
                        "class-il" (one head, no task id at test time)
    Stream.meta         how it was built: seed, theta, class order, source fingerprint, ...
    Stream.logit_mask(t) -> bool (num_classes,)   the classes a prediction for task t may choose
                        from: the task's classes under task-il, all classes otherwise
    Stream.fingerprint()                          sha256 over every task's arrays, in order

A `Task` looks like a `Dataset` (x_train, y_train, x_test, y_test, num_classes, input_shape) and
adds `index` (1-based, as in the protocol), `classes` (the class ids it contains, sorted) and
`class_mask` (bool (num_classes,) of those classes); `as_dataset()` turns it into a `Dataset`.
Inputs of permuted and rotated tasks are computed on first access and then kept by the task
(task 1 shares the source arrays): building a stream is instant, and a learner that drops old
tasks' training inputs does not hold T copies of the dataset. Labels are shared, never copied.
Treat all arrays as read-only.

Every stream is a pure function of (dataset, arguments, seed): the same call gives bit-identical
arrays. Transforms apply to train and test alike.
- permuted: task 1 is the identity; task t >= 2 applies one fixed random permutation of the
  input positions (all positions but the channel axis; the channels of a pixel move together,
  which for 1-channel data is a permutation of the flattened input), drawn from
  `np.random.default_rng([seed, t])`. The permutations are in `meta["permutations"]`
  (a (T, P) int array, row 0 = identity).
- rotated: task t rotates every image by (t-1)·θ degrees counter-clockwise as displayed (row 0
  at the top) about the image centre, bilinear interpolation, zero fill outside the source
  (zero in the dataset's current units). Needs (N, H, W, C) inputs; 1-D data is refused.
- split: classes are cut into `num_tasks` consecutive groups (np.array_split of the class order,
  so 10 classes / 5 tasks = 5 × 2); the order is 0..C-1, or a permutation drawn from
  `np.random.default_rng(seed)` with `shuffle_classes=True`. Each task keeps the train and test
  examples of its classes, in their original order.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ntkbench.data.base import Dataset, fingerprint_arrays

SETTINGS = ("domain-il", "task-il", "class-il")


@dataclasses.dataclass(frozen=True, eq=False)
class Task:
    """One task of a stream: Dataset-like splits plus the classes it contains.

    `x_train` / `x_test` are computed on first access by `make_inputs(split)` and then kept
    (a permuted or rotated stream costs nothing until a task's inputs are used, and a task
    that is dropped frees them). Build one from arrays with `Task.from_arrays`.
    """

    name: str
    index: int  # 1-based position in the stream
    y_train: np.ndarray
    y_test: np.ndarray
    classes: tuple[int, ...]
    num_classes: int
    make_inputs: Callable[[str], np.ndarray] = dataclasses.field(repr=False)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_arrays(
        cls,
        name: str,
        index: int,
        x_train,
        y_train,
        x_test,
        y_test,
        classes,
        num_classes: int,
        meta: dict[str, Any] | None = None,
    ) -> Task:
        xs = {"train": x_train, "test": x_test}
        return cls(
            name=name,
            index=index,
            y_train=y_train,
            y_test=y_test,
            classes=tuple(classes),
            num_classes=num_classes,
            make_inputs=xs.__getitem__,
            meta=dict(meta or {}),
        )

    @functools.cached_property
    def x_train(self) -> np.ndarray:
        return self.make_inputs("train")

    @functools.cached_property
    def x_test(self) -> np.ndarray:
        return self.make_inputs("test")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def class_mask(self) -> np.ndarray:
        mask = np.zeros(self.num_classes, bool)
        mask[list(self.classes)] = True
        return mask

    def fingerprint(self) -> str:
        return fingerprint_arrays(self.x_train, self.y_train, self.x_test, self.y_test)

    def as_dataset(self) -> Dataset:
        """This task as a plain `Dataset` (e.g. for a method that takes one)."""
        return Dataset(
            name=self.name,
            x_train=self.x_train,
            y_train=self.y_train,
            x_test=self.x_test,
            y_test=self.y_test,
            num_classes=self.num_classes,
            meta={**self.meta, "classes": list(self.classes)},
        )


@dataclasses.dataclass(frozen=True, eq=False)
class Stream:
    """An ordered sequence of tasks over one label space; see the module docstring."""

    name: str
    dataset: str
    tasks: tuple[Task, ...]
    num_classes: int
    setting: str
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.setting not in SETTINGS:
            raise ValueError(f"stream {self.name!r}: setting must be one of {SETTINGS}, got {self.setting!r}")
        if not self.tasks:
            raise ValueError(f"stream {self.name!r}: no tasks")

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks)

    def __getitem__(self, i: int) -> Task:
        return self.tasks[i]

    def logit_mask(self, t: int) -> np.ndarray:
        """bool (num_classes,): the classes a prediction on task t (0-based) may choose from."""
        if self.setting == "task-il":
            return self.tasks[t].class_mask
        return np.ones(self.num_classes, bool)

    def logit_masks(self) -> np.ndarray:
        """bool (num_tasks, num_classes), row t = logit_mask(t)."""
        return np.stack([self.logit_mask(t) for t in range(self.num_tasks)])

    def fingerprint(self) -> str:
        h = hashlib.sha256(f"{self.name}|{self.setting}|{self.num_classes}".encode())
        for task in self.tasks:
            h.update(task.fingerprint().encode())
            h.update(repr(task.classes).encode())
        return "sha256:" + h.hexdigest()


def _base_meta(ds: Dataset, **kw) -> dict[str, Any]:
    return {"dataset_fingerprint": ds.meta.get("fingerprint") or ds.fingerprint(), **kw}


def _all_classes(ds: Dataset) -> tuple[int, ...]:
    return tuple(range(ds.num_classes))


# ----------------------------------------------------------------------------------------------
# permuted


def permuted_stream(ds: Dataset, num_tasks: int = 10, seed: int = 0) -> Stream:
    """Task 1 unpermuted; task t a fixed random permutation of the input positions (train & test)."""
    if num_tasks < 1:
        raise ValueError(f"permuted_stream: num_tasks must be >= 1, got {num_tasks}")
    shape = ds.input_shape
    positions = math.prod(shape[:-1])
    channels = shape[-1]
    perms = np.empty((num_tasks, positions), np.int64)
    perms[0] = np.arange(positions)
    for t in range(2, num_tasks + 1):
        perms[t - 1] = np.random.default_rng([seed, t]).permutation(positions)

    def apply(x: np.ndarray, perm: np.ndarray) -> np.ndarray:
        # Gather whole (position, channel) rows: index the flattened inputs with perm expanded
        # over the channels, a 2-D take (much faster than fancy indexing on a 3-D view).
        idx = (perm[:, None] * channels + np.arange(channels)).ravel()
        return np.take(x.reshape(len(x), positions * channels), idx, axis=1).reshape(x.shape)

    def inputs(t: int) -> Callable[[str], np.ndarray]:
        if t == 1:
            return lambda split: getattr(ds, f"x_{split}")  # task 1 shares the dataset's arrays
        return lambda split: apply(getattr(ds, f"x_{split}"), perms[t - 1])

    tasks = [
        Task(
            name=f"{ds.name}/permuted-{t}",
            index=t,
            y_train=ds.y_train,
            y_test=ds.y_test,
            classes=_all_classes(ds),
            num_classes=ds.num_classes,
            make_inputs=inputs(t),
            meta={"permutation_seed": [seed, t] if t > 1 else None},
        )
        for t in range(1, num_tasks + 1)
    ]
    meta = _base_meta(
        ds, seed=seed, num_tasks=num_tasks, permutations=perms, permuted_axes="all positions, channels kept together"
    )
    return Stream(
        name="permuted", dataset=ds.name, tasks=tuple(tasks), num_classes=ds.num_classes, setting="domain-il", meta=meta
    )


# ----------------------------------------------------------------------------------------------
# rotated


def rotate_images(x: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate (N, H, W, C) images counter-clockwise (as displayed) about their centre.

    Bilinear interpolation, zero outside the source image; float32 out. angle 0 is the identity.
    """
    if x.ndim != 4:
        raise ValueError(f"rotate_images needs (N, H, W, C) images, got shape {x.shape}")
    n, h, w, c = x.shape
    x = np.asarray(x, np.float32)
    if angle_deg % 360 == 0:
        return x.copy()
    a = math.radians(angle_deg)
    cos, sin = math.cos(a), math.sin(a)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    # Output pixel (r, c) samples the source at the inverse rotation. With y up = -row, a
    # counter-clockwise rotation by a maps source (dx, dy) to (dx cos - dy sin, dx sin + dy cos).
    dx, dy = cols - cx, -(rows - cy)
    sx = cx + dx * cos + dy * sin
    sy_up = -dx * sin + dy * cos
    sr = cy - sy_up
    r0, c0 = np.floor(sr), np.floor(sx)
    fr, fc = sr - r0, sx - c0
    r0, c0 = r0.astype(np.int64), c0.astype(np.int64)
    # One sparse (HW x HW) matrix with <= 4 bilinear weights per output pixel, applied to every
    # image and channel at once (kron with I_C keeps a pixel's channels apart): ~4x faster than
    # gathering the four taps separately.
    import scipy.sparse as sp

    out_idx, in_idx, weights = [], [], []
    for dr, dc, wt in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc), (1, 0, fr * (1 - fc)), (1, 1, fr * fc)):
        rr, cc = r0 + dr, c0 + dc
        ok = ((rr >= 0) & (rr < h) & (cc >= 0) & (cc < w) & (wt > 0)).ravel()
        out_idx.append(np.arange(h * w)[ok])
        in_idx.append((rr * w + cc).ravel()[ok])
        weights.append(wt.ravel()[ok])
    m = sp.csr_matrix(
        (np.concatenate(weights).astype(np.float32), (np.concatenate(out_idx), np.concatenate(in_idx))),
        shape=(h * w, h * w),
    )
    if c > 1:
        m = sp.kron(m, sp.identity(c, dtype=np.float32, format="csr"), format="csr")
    flat = x.reshape(n, h * w * c)
    out = np.ascontiguousarray((m @ flat.T).T, dtype=np.float32)
    return out.reshape(n, h, w, c)


def rotated_stream(ds: Dataset, num_tasks: int = 10, theta_deg: float = 10.0, seed: int = 0) -> Stream:
    """Task t rotated by (t-1)·theta degrees (images only). `seed` is recorded; nothing is random."""
    if len(ds.input_shape) != 3:
        raise ValueError(
            f"rotated_stream needs images (H, W, C); dataset {ds.name!r} has inputs of shape "
            f"{ds.input_shape} (1-D data cannot be rotated: use permuted or split)"
        )
    if num_tasks < 1:
        raise ValueError(f"rotated_stream: num_tasks must be >= 1, got {num_tasks}")

    def inputs(angle: float) -> Callable[[str], np.ndarray]:
        if angle == 0:
            return lambda split: getattr(ds, f"x_{split}")  # task 1 shares the dataset's arrays
        return lambda split: rotate_images(getattr(ds, f"x_{split}"), angle)

    tasks = []
    for t in range(1, num_tasks + 1):
        angle = (t - 1) * float(theta_deg)
        tasks.append(
            Task(
                name=f"{ds.name}/rotated-{t}",
                index=t,
                y_train=ds.y_train,
                y_test=ds.y_test,
                classes=_all_classes(ds),
                num_classes=ds.num_classes,
                make_inputs=inputs(angle),
                meta={"angle_deg": angle},
            )
        )
    meta = _base_meta(
        ds,
        seed=seed,
        num_tasks=num_tasks,
        theta_deg=float(theta_deg),
        interpolation="bilinear, zero fill, counter-clockwise about the centre",
    )
    return Stream(
        name="rotated", dataset=ds.name, tasks=tuple(tasks), num_classes=ds.num_classes, setting="domain-il", meta=meta
    )


# ----------------------------------------------------------------------------------------------
# split


def split_stream(
    ds: Dataset, num_tasks: int = 5, seed: int = 0, setting: str = "task-il", shuffle_classes: bool = False
) -> Stream:
    """Classes cut into `num_tasks` groups; each task holds the examples of its group."""
    if setting not in ("task-il", "class-il"):
        raise ValueError(f"split_stream: setting must be 'task-il' or 'class-il', got {setting!r}")
    if not 1 <= num_tasks <= ds.num_classes:
        raise ValueError(f"split_stream: num_tasks must be in 1..{ds.num_classes} for {ds.name!r}, got {num_tasks}")
    order = np.arange(ds.num_classes)
    if shuffle_classes:
        order = np.random.default_rng(seed).permutation(ds.num_classes)
    groups = [tuple(sorted(int(c) for c in g)) for g in np.array_split(order, num_tasks)]
    tasks = []
    for t, classes in enumerate(groups, start=1):
        tr = np.isin(ds.y_train, classes)
        te = np.isin(ds.y_test, classes)
        if not tr.any() or not te.any():
            raise ValueError(
                f"split_stream: task {t} (classes {list(classes)}) has no train or no test examples in {ds.name!r}"
            )
        tasks.append(
            Task.from_arrays(
                f"{ds.name}/split-{t}",
                t,
                ds.x_train[tr],
                ds.y_train[tr],
                ds.x_test[te],
                ds.y_test[te],
                classes,
                ds.num_classes,
            )
        )
    meta = _base_meta(
        ds,
        seed=seed,
        num_tasks=num_tasks,
        class_order=[int(c) for c in order],
        shuffle_classes=shuffle_classes,
        task_classes=[list(g) for g in groups],
    )
    return Stream(
        name="split", dataset=ds.name, tasks=tuple(tasks), num_classes=ds.num_classes, setting=setting, meta=meta
    )


STREAMS: dict[str, Callable[..., Stream]] = {
    "permuted": permuted_stream,
    "rotated": rotated_stream,
    "split": split_stream,
}


def make_stream(kind: str, ds: Dataset, **kwargs) -> Stream:
    """`make_stream("split", ds, setting="class-il")`: a stream by name (for suites and the CLI)."""
    if kind not in STREAMS:
        raise KeyError(f"unknown stream {kind!r}; known: {', '.join(STREAMS)}")
    return STREAMS[kind](ds, **kwargs)
