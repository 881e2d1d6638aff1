"""Published forgetting numbers `ntkbench reproduce` checks.

Mirzadeh et al. 2020, Table 2 (44.4 and 0.53, taken from the table when these entries were added;
the paper's text could not be opened to check them again when the protocol's sources were traced).
Its repository (imirzadeh/stable-continual-learning, read: README.md, replicate_experiment_2.sh,
stable_sgd/utils.py, stable_sgd/data_utils.py) runs
naive SGD on permuted MNIST with `--tasks 20 --epochs-per-task 1 --lr 0.01 --gamma 1.0 --hiddens 256
--batch-size 10 --dropout 0.0` (a 2-layer MLP of 256), task 1 unpermuted; its README says the
reported results are over 5 runs (the script runs 3). `end_experiment` computes, per run, the
average accuracy (the mean over the 20 tasks of the final accuracies) and the forgetting: the mean
over tasks 1..T−1 of (the best accuracy at ANY evaluation, the final one included) − the final one,
divided by 100 (so never negative; ntkbench's `forgetting` takes the best over l < T, as Chaudhry
et al. 2018 and the A-GEM code's `compute_fgt` do, and can be negative). Each `source` ends with
"value: ..." saying what the number is (`tests/test_protocol_sources.py` checks it).
"""

from __future__ import annotations

# Published numbers for `ntkbench reproduce` (accuracies and forgetting in percentage points).
PUBLISHED = (
    {
        "name": "mirzadeh2020-permuted-mnist-sgd-acc",
        "task": "forgetting",
        "dataset": "mnist",
        "method": "sgd",
        "params": {"lr": 0.01},
        "budget": {"stream": "permuted", "num_tasks": 20, "epochs": 1, "batch_size": 10},
        "metric": "ACC",
        "value": 44.4,
        "tolerance": 5.0,
        "source": "Mirzadeh et al. 2020, Understanding the Role of Training Regimes in Continual Learning (NeurIPS), "
        "Table 2, naive SGD, Permuted MNIST 20 tasks, MLP 2x256; value: mean over 5 runs (the repository's "
        "README) of the mean final accuracy over the 20 tasks",
        "hardware": "any; ~20 min on 2 CPU cores per seed (20 tasks x 6000 steps + 420 evaluations)",
    },
    {
        "name": "mirzadeh2020-permuted-mnist-sgd-forgetting",
        "task": "forgetting",
        "dataset": "mnist",
        "method": "sgd",
        "params": {"lr": 0.01},
        "budget": {"stream": "permuted", "num_tasks": 20, "epochs": 1, "batch_size": 10},
        "metric": "forgetting",
        "value": 53.0,
        "tolerance": 5.0,
        "source": "Mirzadeh et al. 2020, Table 2 (published as 0.53, a fraction; 53 points here); value: mean over "
        "5 runs (the repository's README) of the forgetting averaged over tasks 1-19",
        "hardware": "any; ~20 min on 2 CPU cores per seed",
    },
)
