"""Generated arrays kept in `<data_dir>/generated/`, checked against their fingerprint on every load.

    arrays = load_or_generate(path, ("x", "y"), generate)

A file is an `.npz` holding the arrays and, under `FINGERPRINT_KEY`, the `fingerprint_arrays` of
the arrays as they were generated, written in the same atomic rename (never a partial file, and
as readable as the umask allows, like a result file). The generators are deterministic, so a file
that cannot be read (truncated, empty, not a zip), lacks an array or a recorded fingerprint (an
older ntkbench wrote it), or whose arrays no longer hash to the recorded value (a flipped bit,
zeroed labels) is generated again, and one line on stderr says which file and why: bad data is
repaired, never used.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ntkbench.data.base import fingerprint_arrays
from ntkbench.results import atomic_file

FINGERPRINT_KEY = "ntkbench_fingerprint"


def read_verified(path: Path, keys: tuple[str, ...]) -> tuple[dict[str, np.ndarray] | None, str | None]:
    """(arrays, None) when `path` holds `keys` hashing to the recorded fingerprint; else (None, why),
    `why` None when there is no file at all."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in keys}
            recorded = str(f[FINGERPRINT_KEY]) if FINGERPRINT_KEY in f.files else None
    except FileNotFoundError:
        return None, None
    # Any failure to read a cache file means "generate it again": np.load of a damaged file raises
    # BadZipFile, EOFError, OSError, ValueError or KeyError (a missing array), among others.
    except Exception as e:
        return None, f"unreadable ({type(e).__name__}: {e})"
    if recorded is None:
        return None, "no fingerprint recorded in it (written by an older ntkbench)"
    if fingerprint_arrays(*arrays.values()) != recorded:
        return None, "its arrays do not match the fingerprint recorded when it was generated"
    return arrays, None


def load_or_generate(
    path: Path, keys: tuple[str, ...], generate: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The arrays `keys` read from `path` when they pass their fingerprint, else `generate()`d and
    written there (atomically; a folder that cannot be written costs a generation every time)."""
    arrays, why = read_verified(path, keys)
    if arrays is not None:
        return arrays
    if why is not None:
        print(f"warning: {path}: {why}; generating it again", file=sys.stderr)
    fresh = generate()
    arrays = {k: np.asarray(fresh[k]) for k in keys}
    contents: dict[str, Any] = {**arrays, FINGERPRINT_KEY: np.array(fingerprint_arrays(*arrays.values()))}
    try:
        with atomic_file(path, "wb") as f:
            np.savez(f, **contents)
    except OSError:  # a read-only cache folder: generate every time instead
        pass
    return arrays
