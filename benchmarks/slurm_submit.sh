#!/usr/bin/env bash
# Why `--executor slurm` submits one job array: the cost of submitting N runs as one array vs N
# separate jobs (held with -H, so nothing runs; all cancelled at the end). Needs a Slurm cluster
# (`bash .ci/slurm.sh start`). A job array is also one `scontrol show job` per poll and one scancel.
set -euo pipefail
N=${1:-20}
t0=$(date +%s.%N)
array=$(sbatch --parsable -H --array=0-$((N - 1)) --wrap true -o /dev/null)
t1=$(date +%s.%N)
jobs=()
for _ in $(seq "$N"); do jobs+=("$(sbatch --parsable -H --wrap true -o /dev/null)"); done
t2=$(date +%s.%N)
scancel "$array" "${jobs[@]}"
python3 -c "print(f'submitting $N runs: one job array {$t1 - $t0:.3f} s; $N jobs {$t2 - $t1:.3f} s (ratio {($t2 - $t1) / ($t1 - $t0):.0f})')"
