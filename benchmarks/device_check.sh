#!/usr/bin/env bash
# The GPU check: one prepared script, at most ~8 minutes on one GPU.
#
#   bash benchmarks/device_check.sh prepare   here, with PyPI: wheels the device image lacks into
#                                             .device/wheels (Python 3.12, manylinux x86_64) and the
#                                             original Fashion-MNIST files into .device/fashion-mnist
#                                             (~58 MB in all: within what the device tool carries)
#   bash benchmarks/device_check.sh           on the GPU machine (no network), from the repository
#                                             root, with .device carried in; writes under $OUT
#
# On the device it installs the carried wheels (never touching its CUDA JAX), then runs
#   1. the GPU-path tests (tests/test_gpu.py, skipped on CPU) and the fast executor tests,
#   2. the quick suite (ntkbench/suites/quick.toml) into $OUT/quick, compared with results/,
#   3. the full DC evaluation protocol for `random` and `kip` at ipc 10 on Fashion-MNIST
#      (ntkbench/suites/device_check.toml: ConvNet-3, 5 networks, 300 epochs, whole test split)
#      into $OUT/distillation,
# and writes $OUT/timings.txt (seconds per step) and $OUT/nvidia-smi.txt. Result files carry the
# GPU in provenance.device; commit them into results/ only from a run on a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
HERE=.device
OUT=${OUT:-/tmp/ntkbench-device-check}
# What the device image lacks (it has jax with CUDA, flax, optax, numpy, scipy, pandas, pytest).
WHEELS="neural-tangents==0.6.5 frozendict mnist1d requests urllib3 idna charset-normalizer certifi
  matplotlib contourpy cycler fonttools kiwisolver pyparsing pillow pydantic pydantic-core
  typing-inspection annotated-types typing-extensions tqdm submitit cloudpickle jinja2 markupsafe"

if [ "${1:-}" = prepare ]; then
  mkdir -p "$HERE/wheels" "$HERE/fashion-mnist"
  # shellcheck disable=SC2086
  python3 -m pip download -q --only-binary=:all: --no-deps --python-version 3.12 \
    --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform any \
    -d "$HERE/wheels" $WHEELS || exit 1
  if [ -d /usr/share/datasets/fashion-mnist ]; then
    cp /usr/share/datasets/fashion-mnist/*.gz "$HERE/fashion-mnist/"
  else
    echo "no /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist); step 3 will fail" >&2
  fi
  du -sh "$HERE"/*
  exit 0
fi

mkdir -p "$OUT"
T0=$(date +%s)
step() { echo "$1 $(($(date +%s) - T0))" >>"$OUT/timings.txt"; echo "== $1 ($(($(date +%s) - T0)) s)"; }
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1
step start
python -m pip install -q --no-index --no-deps "$HERE"/wheels/*.whl 2>&1 | tail -3
# ntkbench itself from this checkout (not installed: the image's CUDA JAX stays as it is)
export PYTHONPATH=$PWD NTKBENCH_DATA_DIR=$OUT/data NTKBENCH_COMPILE_CACHE=$OUT/compile-cache
python -c "import jax, ntkbench; print('jax', jax.__version__, jax.devices())" 2>&1 | tee "$OUT/devices.txt"
python -m ntkbench.cli data import fashion_mnist --from "$HERE/fashion-mnist"
step installed
timeout 90 python -m pytest -q -p no:cacheprovider tests/test_gpu.py tests/test_executors.py -k "not slurm and not scancel" \
  >"$OUT/pytest.txt" 2>&1
tail -3 "$OUT/pytest.txt"
step tests
timeout 220 python -m ntkbench.cli run ntkbench/suites/quick.toml --out "$OUT/quick" --reference results >"$OUT/quick.txt" 2>&1
tail -30 "$OUT/quick.txt"
step quick_suite
timeout 150 python -m ntkbench.cli run ntkbench/suites/device_check.toml --out "$OUT/distillation" >"$OUT/distillation.txt" 2>&1
tail -12 "$OUT/distillation.txt"
step distillation_full_protocol
rm -rf "$OUT/compile-cache" "$OUT/data"
