"""Full protocol or reduced: computed from a result's task, budget, params and seeds, never typed."""

import json

import pytest

from ntkbench.registry import get_method
from ntkbench.tasks import TASKS
from ntkbench.tasks.conformance import conformance, deviation_line

REFERENCE = {"sample_complexity": "mlp", "forgetting": "sgd", "distillation": "random", "adversarial": "standard"}


def config(task: str, *, budget=None, params=None, seeds=3, dataset="fashion_mnist", origin="ntkbench") -> dict:
    method = REFERENCE[task]
    defaults = get_method(method, task).params
    return {
        "task": task,
        "dataset": dataset,
        "method": method,
        "method_origin": origin,
        "budget": {**TASKS.get(task).budget_defaults, **(budget or {})},
        "params": {**defaults, **(params or {})},
        "seeds": seeds,
    }


@pytest.mark.parametrize("task", sorted(REFERENCE))
def test_the_protocol_itself_is_full(task):
    assert conformance(config(task)) == {"full": True, "deviations": []}
    assert deviation_line(conformance(config(task))) == "full protocol"


def test_each_deviation_is_named_with_the_protocol_value():
    got = conformance(
        config("distillation", budget={"eval_networks": 1, "eval_epochs": 50, "test_points": 2000}, seeds=2)
    )
    assert got == {
        "full": False,
        "deviations": ["eval_networks 1 of 5", "eval_epochs 50 of 300", "test_points 2000 of all", "seeds 2 of 3"],
    }
    # a reference method's params must be its defaults
    assert conformance(config("adversarial", params={"steps": 500}))["deviations"] == ["steps 500 of 2000"]
    # a third party's params are part of its method: not checked
    assert conformance(config("adversarial", params={"steps": 500}, origin="someone-else"))["full"]


def test_deviations_do_not_depend_on_the_order_params_were_given_in():
    # The runner computes the field from the suite's dict; validate, from the file read back
    # (keys sorted): both must give the same line, or validate refuses the runner's own file.
    record = config("adversarial", params={"widths": [], "dense": [1024], "steps": 46875})
    record["params"] = {k: record["params"][k] for k in ("widths", "dense", "steps", "lr", "batch_size")} | {
        k: v for k, v in record["params"].items() if k not in ("widths", "dense", "steps", "lr", "batch_size")
    }
    round_trip = json.loads(json.dumps(record, sort_keys=True))
    assert conformance(record) == conformance(round_trip)
    assert conformance(record)["deviations"] == [
        "dense [1024] of [128]",
        "steps 46875 of 2000",
        "widths [] of [32, 64]",
    ]


def test_grid_points_and_stated_variants_stay_full():
    assert conformance(config("distillation", budget={"ipc": 50, "augment": "dsa"}))["full"]
    assert conformance(config("adversarial", budget={"eps": 0.2, "eps_sweep": [0.1, 0.3]}))["full"]
    # forgetting: num_tasks None is the stream's count; writing it out is the same protocol
    assert conformance(config("forgetting", budget={"num_tasks": 10}))["full"]
    assert conformance(config("forgetting", budget={"stream": "split", "num_tasks": 5}))["full"]
    assert conformance(config("forgetting", budget={"num_tasks": 3}))["deviations"] == ["num_tasks 3 of 10"]
    # sample complexity: the curve may extend the protocol's grid, not drop from it
    grid = TASKS.get("sample_complexity").budget_defaults["n"]
    assert conformance(config("sample_complexity", budget={"n": [*grid, 60000]}))["full"]
    assert conformance(config("sample_complexity", budget={"n": [1000, 4000]}))["deviations"] == [
        "n without 100, 200, 500, 2000"
    ]


def test_validate_recomputes_a_stored_protocol(tmp_path):
    from ntkbench.orchestration.validate import validate_result_file
    from ntkbench.results import SCHEMA, config_hash, config_of

    rec = {
        "schema": SCHEMA,
        "task_version": 1,
        "method_version": "1",
        "root_seed": 0,
        **config("distillation", budget={"eval_epochs": 50}),
        "dataset_fingerprint": None,
        "metrics": {},
        "ntk": {},
        "status": "failed",
        "error": "not run",
        "provenance": {},
    }
    rec["config_hash"] = config_hash(config_of(rec))
    rec["protocol"] = {"full": True, "deviations": []}  # claims the full protocol
    path = tmp_path / "r.json"
    path.write_text(json.dumps(rec))
    errors = [e for e in validate_result_file(path) if "'protocol'" in e]
    assert errors and "reduced: eval_epochs 50 of 300" in errors[0] and str(path) in errors[0]
    rec["protocol"] = conformance(rec)
    path.write_text(json.dumps(rec))
    assert not [e for e in validate_result_file(path) if "'protocol'" in e]


def test_a_budget_that_is_not_the_tasks_is_a_deviation_not_a_crash():
    # an edited result file (or one from a task whose budget changed) is reduced, saying why
    got = conformance(config("distillation", budget={"eval_epochz": 50}))
    assert (
        not got["full"] and "budget field 'eval_epochz' is unknown; did you mean 'eval_epochs'" in got["deviations"][0]
    )


def test_the_task_reads_a_typed_budget_and_the_record_keeps_the_dict_as_written():
    task = TASKS.get("sample_complexity")
    written = task.resolve_budget({"n": [100, 4000], "targets": [60, 80]})
    assert written["targets"] == [60, 80] and all(type(t) is int for t in written["targets"])  # hashed as written
    typed = task.typed_budget("mnist1d", written)
    assert typed.n == (100, 4000) and typed.targets == (60.0, 80.0) and all(type(t) is float for t in typed.targets)
    # effective_budget resolves "None: the protocol's value for this dataset" before the task reads it
    forgetting, adversarial = TASKS.get("forgetting"), TASKS.get("adversarial")
    assert forgetting.typed_budget("mnist", {"stream": "split"}).num_tasks == 5
    assert forgetting.typed_budget("mnist", {"stream": "split"}).setting == "task-il"
    assert forgetting.typed_budget("mnist", {}).num_tasks == 10
    assert adversarial.typed_budget("mnist", {}).eps == 0.3
    assert adversarial.typed_budget("cifar10", {"norm": "l2"}).eps == 0.5
    assert adversarial.typed_budget("lza-8", {}).eps is None  # no protocol eps: the task says so when it runs
    with pytest.raises(ValueError, match="budget field 'eps': expected"):
        adversarial.typed_budget("mnist", {"eps": "big"})
