"""Loading the full Fashion-MNIST training split from the imported local copy (seconds printed,
nothing asserted; goal: < 2 s for a first load in a fresh process).

Imports the Debian files (or --from PATH) into a temporary data dir unless --data-dir already
holds an imported copy, then, in a fresh Python process for each repeat:
  - `import ntkbench.data` (no TensorFlow),
  - first load: `load_dataset("fashion_mnist", data_dir)` (memory-mapped uint8 .npy, fingerprint
    check, scaling to float32, `Dataset.fingerprint()`),
  - warm load: the same again in that process, bypassing the registry's per-process cache.
The OS page cache is not dropped: "first" means first in the process, not a cold disk.

    python benchmarks/data_loading.py [--data-dir DIR] [--from PATH] [--repeats 3]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import ntkbench.data as nd
from ntkbench.data.images import load_image_dataset
t1 = time.perf_counter()
ds = nd.load_dataset("fashion_mnist", sys.argv[1])
t2 = time.perf_counter()
ds2 = load_image_dataset("fashion_mnist", sys.argv[1]); fp2 = ds2.fingerprint()
t3 = time.perf_counter()
assert fp2 == ds.meta["fingerprint"]
print(json.dumps({"import_s": t1 - t0, "first_load_s": t2 - t1, "warm_load_s": t3 - t2,
                  "shape": list(ds.x_train.shape), "dtype": str(ds.x_train.dtype),
                  "fingerprint": ds.meta["fingerprint"], "source": ds.meta["source"],
                  "tensorflow_imported": "tensorflow" in sys.modules}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--from", dest="source", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from ntkbench.data.importer import import_dataset, read_manifest

    tmp = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="ntkbench-bench-")
        data_dir = Path(tmp.name)
    if read_manifest("fashion_mnist", data_dir) is None:
        if not args.source.exists():
            sys.exit(
                f"no imported fashion_mnist in {data_dir} and no source files at {args.source} "
                "(install dataset-fashion-mnist or pass --from PATH)"
            )
        t = time.perf_counter()
        import_dataset("fashion_mnist", args.source, data_dir)
        print(f"import from {args.source}: {time.perf_counter() - t:.2f} s")
    try:
        rows = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(data_dir)], capture_output=True, text=True, check=True
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[0]
        print(f"fashion_mnist train {tuple(r['shape'])} {r['dtype']} from {r['source']}")
        print(f"fingerprint {r['fingerprint']}; tensorflow imported: {r['tensorflow_imported']}")
        print(
            f"{'run':>4} {'import ntkbench.data':>21} {'first load':>11} {'warm load':>10}"
            "   (seconds, fresh process each run)"
        )
        for i, r in enumerate(rows, 1):
            print(f"{i:>4} {r['import_s']:>21.3f} {r['first_load_s']:>11.3f} {r['warm_load_s']:>10.3f}")
        best = min(r["first_load_s"] for r in rows)
        print(f"first load: best {best:.3f} s (goal < 2 s)")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
