"""Offline datasets: MNIST-1D (procedural), the Li–Zhang–Arora synthetic task, `fourier1d` (a
circle of signals with a known target made of Fourier modes) and `sphere3` (points on the sphere
with a known target made of spherical harmonics)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ntkbench.data.base import Dataset
from ntkbench.data.generated import load_or_generate
from ntkbench.data.registry import register_dataset


def _mnist1d(shuffle: bool, data_dir: Path) -> dict:
    """mnist1d's own procedural generation (`make_dataset`; `get_dataset` would download, so it is
    never used), kept in `data_dir/generated/` after the first time: generating takes ~2 s, which
    every process loading MNIST-1D (each run of a suite, each test worker) would pay again, with
    ~1 s more for importing mnist1d. The file is named by mnist1d's version (its default
    generation arguments are that version's); `load_or_generate` writes it whole or not at all,
    with the arrays' fingerprint, and generates it again when it is unreadable or its arrays no
    longer match that fingerprint."""
    import importlib.metadata

    version = importlib.metadata.version("mnist1d")
    path = Path(data_dir) / "generated" / f"mnist1d-{version}-{'shuffled' if shuffle else 'default'}-args.npz"

    def generate() -> dict:
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.shuffle_seq = shuffle
        return make_dataset(args)

    return load_or_generate(path, ("x", "y", "x_test", "y_test"), generate)


@register_dataset("mnist1d", "MNIST-1D, 4000 train / 1000 test, length 40 (procedural, offline)", num_train=4000)
@register_dataset("mnist1d-shuffled", "MNIST-1D with one fixed spatial permutation of every signal", num_train=4000)
def load_mnist1d(name: str, data_dir: Path) -> Dataset:
    shuffle = name == "mnist1d-shuffled"
    d = _mnist1d(shuffle, data_dir)
    as_x = lambda a: np.asarray(a, np.float32)[..., None]  # (N, 40) -> (N, 40, 1)
    return Dataset(
        name=name,
        x_train=as_x(d["x"]),
        y_train=np.asarray(d["y"], np.int32),
        x_test=as_x(d["x_test"]),
        y_test=np.asarray(d["y_test"], np.int32),
        num_classes=10,
        meta={
            "source": "mnist1d.make_dataset(get_dataset_args())" + (" shuffle_seq=True" if shuffle else ""),
            "normalisation": "mnist1d's own: zero mean, unit std over the whole set",
        },
    )


LZA_TRAIN, LZA_TEST = 8192, 2000


def lza_dim(name: str) -> tuple[int, int]:
    """(d, k) of `lza-<d>`; KeyError unless d = 2k²."""
    d_str = name.split("-", 1)[1]
    try:
        d = int(d_str)
    except ValueError:
        raise KeyError(f"dataset {name!r}: lza-<d> needs an integer d, got {d_str!r}") from None
    k = math.isqrt(d // 2)
    if d <= 0 or 2 * k * k != d:
        raise KeyError(f"dataset {name!r}: d must be 2k^2 (2, 8, 18, 32, 50, 72, ...), got {d}")
    return d, k


@register_dataset(
    "lza-<d>",
    "Li-Zhang-Arora synthetic: x in R^(2xkxk) iid N(0,1), d=2k^2, label sign(|ch1|^2-|ch2|^2)",
    validate=lza_dim,
    num_train=LZA_TRAIN,
)
def load_lza(name: str, data_dir: Path) -> Dataset:
    d, k = lza_dim(name)
    rng = np.random.default_rng(np.random.SeedSequence([0x1A2A, d]))
    x = rng.standard_normal((LZA_TRAIN + LZA_TEST, k, k, 2), dtype=np.float32)
    energy = (x**2).sum(axis=(1, 2))
    y = (energy[:, 0] > energy[:, 1]).astype(np.int32)
    return Dataset(
        name=name,
        x_train=x[:LZA_TRAIN],
        y_train=y[:LZA_TRAIN],
        x_test=x[LZA_TRAIN:],
        y_test=y[LZA_TRAIN:],
        num_classes=2,
        meta={
            "source": f"generated, seed SeedSequence([0x1A2A, {d}])",
            "normalisation": "none (N(0, 1))",
            "d": d,
            "k": k,
        },
    )


FOURIER_LENGTH, FOURIER_MODES = 40, (1, 2, 4, 8)
FOURIER_TRAIN_BITS, FOURIER_TEST_BITS = 12, 10  # regular grids of 4096 and 1024 angles


def _bit_reversed(bits: int) -> np.ndarray:
    """0 .. 2^bits − 1 in bit-reversed order (0, 2^(bits−1), 2^(bits−2), 3 · 2^(bits−2), ...)."""
    return np.array([int(format(j, f"0{bits}b")[::-1], 2) for j in range(2**bits)], np.float64)


def fourier_angle(x) -> np.ndarray:
    """θ of each `fourier1d` signal x_j = √2 cos(θ − 2πj/L) (inputs (N, L) or (N, L, 1))."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    phase = 2 * np.pi * np.arange(x.shape[1]) / x.shape[1]
    return np.arctan2(x @ np.sin(phase), x @ np.cos(phase)) % (2 * np.pi)


def fourier_components(x, meta: dict) -> np.ndarray:
    """The known target of a `fourier1d` signal split by frequency: (N, K) with column k the
    component a cos(m_k θ + φ_k) of the k-th mode m_k in `meta["modes"]` (their sum is the target)."""
    theta = fourier_angle(x)[:, None]
    modes, phases = np.asarray(meta["modes"], np.float64), np.asarray(meta["phases"], np.float64)
    return float(meta["amplitude"]) * np.cos(modes * theta + phases)


@register_dataset(
    "fourier1d",
    "signals x_j = sqrt2 cos(theta - 2 pi j/40), theta on regular grids of the circle (4096 train / 1024 test);"
    " known real target sum_k a cos(m_k theta + phi_k), m_k = 1, 2, 4, 8; label: target > 0",
    num_train=2**FOURIER_TRAIN_BITS,
)
def load_fourier1d(name: str, data_dir: Path) -> Dataset:
    """Inputs on a circle embedded in R^40 (|x|² = 40, like standardised MNIST-1D; every MLP kernel
    is then a function of cos(θ − θ'), so its eigenfunctions on the circle are the Fourier modes)
    with a known target made of a few Fourier modes of equal amplitude; `meta` holds the modes,
    amplitude and phases (`fourier_components` rebuilds each mode's part from x). The integer label
    (target > 0) makes it a two-class dataset for any task; `training_dynamics` regresses the target.
    The angles are regular grids, 2π(j + 1/2)/4096 (train) and 2π(j + 1/4)/1024 (test, never a
    training angle), each in bit-reversed (van der Corput) order: the first 2^k examples of a split
    are a regular grid of 2^k angles, and any prefix is spread evenly round the circle. On a regular
    grid every kernel of cos(θ − θ') is a circulant matrix whose eigenvectors are exactly the
    sampled Fourier modes."""
    rng = np.random.default_rng(np.random.SeedSequence([0xF0, 0x41]))
    theta = np.concatenate(
        [
            2 * np.pi * (_bit_reversed(FOURIER_TRAIN_BITS) + 0.5) / 2**FOURIER_TRAIN_BITS,
            2 * np.pi * (_bit_reversed(FOURIER_TEST_BITS) + 0.25) / 2**FOURIER_TEST_BITS,
        ]
    )
    phases = rng.uniform(0.0, 2 * np.pi, len(FOURIER_MODES))
    grid = 2 * np.pi * np.arange(FOURIER_LENGTH) / FOURIER_LENGTH
    x = (np.sqrt(2.0) * np.cos(theta[:, None] - grid))[..., None].astype(np.float32)
    meta = {
        "source": "generated: regular grids of angles, phases from SeedSequence([0xF0, 0x41])",
        "normalisation": "none (every signal has mean square 1)",
        "modes": list(FOURIER_MODES),
        "amplitude": math.sqrt(2.0 / len(FOURIER_MODES)),  # unit target variance
        "phases": [float(p) for p in phases],
        "target": "sum over modes m of amplitude * cos(m * theta + phase_m); theta = fourier_angle(x)",
    }
    y = (fourier_components(x, meta).sum(1) > 0).astype(np.int32)
    return Dataset(
        name=name,
        x_train=x[: 2**FOURIER_TRAIN_BITS],
        y_train=y[: 2**FOURIER_TRAIN_BITS],
        x_test=x[2**FOURIER_TRAIN_BITS :],
        y_test=y[2**FOURIER_TRAIN_BITS :],
        num_classes=2,
        meta=meta,
    )


SPHERE_DIM, SPHERE_DEGREES = 3, (1, 2, 4, 8)
SPHERE_TRAIN, SPHERE_TEST = 4096, 1024


def zonal_components(x, meta: dict) -> np.ndarray:
    """The known target of a `sphere3` input split by degree: (N, K) with column k the zonal
    spherical harmonic a √(2ℓ + 1) P_ℓ(⟨x̂, z_k⟩) of degree ℓ = meta["degrees"][k] about the unit
    direction z_k = meta["directions"][k] (P_ℓ the Legendre polynomial; on the sphere each column
    has mean square a², and columns of different degree are orthogonal)."""
    from scipy.special import eval_legendre

    x = np.asarray(x, np.float64).reshape(len(x), -1)
    cos = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ np.asarray(meta["directions"], np.float64).T  # (N, K)
    degrees = np.asarray(meta["degrees"])
    return float(meta["amplitude"]) * np.sqrt(2 * degrees + 1) * eval_legendre(degrees, cos)


@register_dataset(
    "sphere3",
    "points on the sphere S^2 (scaled to |x|^2 = 3; 4096 train / 1024 test, uniform);"
    " known real target sum_k a sqrt(2l+1) P_l(<x, z_k>), degrees l = 1, 2, 4, 8; label: target > 0",
    num_train=SPHERE_TRAIN,
)
def load_sphere3(name: str, data_dir: Path) -> Dataset:
    """Inputs uniform on the unit sphere of R^3, scaled to |x|² = 3 (unit mean square per
    coordinate, like standardised data), with a known target made of one zonal spherical harmonic
    per degree ℓ in (1, 2, 4, 8), each about its own random direction, of equal mean square
    (`zonal_components` rebuilds each degree's part from x). Every MLP kernel is a function of
    ⟨x, x'⟩ here, so its eigenfunctions on the sphere are the spherical harmonics, degree by
    degree (Mercer / Funk–Hecke): the controlled dataset of spectral bias in more than one
    dimension. The integer label (target > 0) makes it a two-class dataset for any task."""
    rng = np.random.default_rng(np.random.SeedSequence([0x5F, 0x3]))
    g = rng.standard_normal((SPHERE_TRAIN + SPHERE_TEST, SPHERE_DIM))
    x = (np.sqrt(SPHERE_DIM) * g / np.linalg.norm(g, axis=1, keepdims=True)).astype(np.float32)
    z = rng.standard_normal((len(SPHERE_DEGREES), SPHERE_DIM))
    meta = {
        "source": "generated: Gaussian points normalised onto the sphere, seed SeedSequence([0x5F, 0x3])",
        "normalisation": "none (|x|^2 = 3: unit mean square per coordinate)",
        "degrees": list(SPHERE_DEGREES),
        "directions": (z / np.linalg.norm(z, axis=1, keepdims=True)).tolist(),
        "amplitude": math.sqrt(1.0 / len(SPHERE_DEGREES)),  # unit target variance
        "target": "sum over degrees l of amplitude * sqrt(2l+1) * P_l(<x/|x|, direction_l>)",
    }
    y = (zonal_components(x, meta).sum(1) > 0).astype(np.int32)
    return Dataset(
        name=name,
        x_train=x[:SPHERE_TRAIN],
        y_train=y[:SPHERE_TRAIN],
        x_test=x[SPHERE_TRAIN:],
        y_test=y[SPHERE_TRAIN:],
        num_classes=2,
        meta=meta,
    )


def target_components(x, meta: dict) -> np.ndarray:
    """The known target of a controlled dataset (`fourier1d`, `sphere3`) split into its modes:
    (N, K), the columns summing to the target."""
    return zonal_components(x, meta) if "degrees" in meta else fourier_components(x, meta)
