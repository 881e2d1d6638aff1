"""Typed configuration: budgets and method parameters are checked (strictly, all at once) before any compile."""

import dataclasses
import datetime
import json
import pathlib
import subprocess
import sys
from typing import Annotated, Literal

import pytest
from annotated_types import Ge, Gt, Le
from pydantic import Field

from ntkbench.typecheck import (
    ConfigError,
    budget_errors,
    make_budget,
    param_errors,
    positive_int_errors,
)

W = "suites/quick.toml, run 3 (sample_complexity/mnist1d/mlp)"


@dataclasses.dataclass(frozen=True)
class Budget:
    n: tuple[Annotated[int, Gt(0)], ...] = (100, 200)
    targets: tuple[Annotated[float, Ge(0), Le(100)], ...] = (60.0,)
    steps: Annotated[int, Gt(0)] = 6000
    lr: Annotated[float, Gt(0)] = 1e-3
    test_points: Annotated[int, Gt(0)] | None = None
    ntk_view: bool = True
    optimizer: Literal["adam", "sgd"] = "adam"


@dataclasses.dataclass(frozen=True)
class Nested:
    grid: tuple[tuple[Annotated[int, Field(ge=1)], ...], ...] = ((1, 2), (3,))
    size: int | tuple[int, ...] = 4
    required: int = dataclasses.field(default=0)


@dataclasses.dataclass(frozen=True)
class NeedsValue:
    k: int


def one(errors):
    assert len(errors) == 1, errors
    assert "\n" not in errors[0] and "pydantic.dev" not in errors[0], errors[0]
    return errors[0]


def test_good_values_give_frozen_instance_with_tuples_and_floats():
    b = make_budget(
        Budget,
        {
            "n": [1, 2],
            "targets": [60, 75.5],
            "lr": 1,
            "steps": 10,
            "test_points": 5,
            "optimizer": "sgd",
            "ntk_view": False,
        },
        where=W,
    )
    assert b == Budget(n=(1, 2), targets=(60.0, 75.5), steps=10, lr=1.0, test_points=5, ntk_view=False, optimizer="sgd")
    assert type(b.n) is tuple and type(b.targets) is tuple and hash(b)
    assert type(b.targets[0]) is float and type(b.lr) is float and type(b.steps) is int
    # 60 given for a float field comes back as 60.0: asdict is the same whichever the suite wrote.
    assert json.dumps(dataclasses.asdict(b)) == json.dumps(
        dataclasses.asdict(
            make_budget(
                Budget,
                {
                    "n": [1, 2],
                    "targets": [60.0, 75.5],
                    "lr": 1.0,
                    "steps": 10,
                    "test_points": 5,
                    "optimizer": "sgd",
                    "ntk_view": False,
                },
                where=W,
            )
        )
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.steps = 3


def test_defaults_fill_missing_fields():
    assert make_budget(Budget, {}, where=W) == Budget()
    assert budget_errors(Budget, {"steps": 7}, where=W) == []


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("steps", "abc", "budget field 'steps': expected an integer > 0, got 'abc' (str)"),
        ("steps", "5", "budget field 'steps': expected an integer > 0, got '5' (str)"),
        ("steps", 3.5, "budget field 'steps': expected an integer > 0, got 3.5 (float)"),
        ("steps", 3.0, "budget field 'steps': expected an integer > 0, got 3.0 (float)"),
        ("steps", True, "budget field 'steps': expected an integer > 0, got True (bool)"),
        ("steps", 0, "budget field 'steps': expected an integer > 0, got 0 (int)"),
        ("n", [-5], "budget field 'n[0]': expected an integer > 0, got -5 (int)"),
        ("n", 5, "budget field 'n': expected a list (items: an integer > 0), got 5 (int)"),
        ("targets", [120], "budget field 'targets[0]': expected a number >= 0 and <= 100, got 120 (int)"),
        ("targets", [50, "x"], "budget field 'targets[1]': expected a number >= 0 and <= 100, got 'x' (str)"),
        ("lr", True, "budget field 'lr': expected a number > 0, got True (bool)"),
        ("lr", "1e-3", "budget field 'lr': expected a number > 0, got '1e-3' (str)"),
        ("ntk_view", 1, "budget field 'ntk_view': expected a boolean, got 1 (int)"),
        ("optimizer", "adamw", "budget field 'optimizer': expected one of 'adam', 'sgd', got 'adamw' (str)"),
        ("test_points", "all", "budget field 'test_points': expected an integer > 0 or None, got 'all' (str)"),
        ("test_points", -1, "budget field 'test_points': expected an integer > 0 or None, got -1 (int)"),
        (
            "steps",
            datetime.date(2024, 1, 1),
            "budget field 'steps': expected a TOML/JSON value, got datetime.date(2024, 1, 1) (date)",
        ),
    ],
)
def test_refused_budget_values(field, value, expected):
    assert one(budget_errors(Budget, {field: value}, where=W)) == f"{W}: {expected}"
    with pytest.raises(ConfigError) as exc:
        make_budget(Budget, {field: value}, where=W)
    assert exc.value.errors == [f"{W}: {expected}"] and isinstance(exc.value, ValueError)


def test_optional_and_literal_fields_accept_their_values():
    assert make_budget(Budget, {"test_points": None}, where=W).test_points is None
    assert make_budget(Budget, {"test_points": 9}, where=W).test_points == 9
    assert make_budget(Budget, {"optimizer": "sgd"}, where=W).optimizer == "sgd"


def test_unknown_field_names_it_lists_known_and_suggests():
    msg = one(budget_errors(Budget, {"stpes": 5}, where=W))
    assert msg == (
        f"{W}: budget field 'stpes' is unknown; did you mean 'steps'? "
        "(fields: n, targets, steps, lr, test_points, ntk_view, optimizer)"
    )
    assert "did you mean" not in one(budget_errors(Budget, {"zzzz": 1}, where=W))


def test_all_errors_collected_at_once():
    errors = budget_errors(Budget, {"steps": "abc", "n": [1, -2, "x"], "lr": 0, "bogus": 1}, where=W)
    assert len(errors) == 5 and all(e.startswith(W + ": ") for e in errors)
    for part in ("'bogus' is unknown", "'steps'", "'n[1]'", "'n[2]'", "'lr'"):
        assert sum(part in e for e in errors) == 1, (part, errors)
    with pytest.raises(ConfigError) as exc:
        make_budget(Budget, {"steps": "abc", "lr": -1}, where=W)
    assert len(exc.value.errors) == 2 and str(exc.value) == "\n".join(exc.value.errors)


def test_nested_tuple_index_in_path_and_unions():
    b = make_budget(Nested, {"grid": [[1, 2], [3, 4, 5]], "size": [2, 3]}, where=W)
    assert b.grid == ((1, 2), (3, 4, 5)) and b.size == (2, 3)
    assert make_budget(Nested, {"size": 8}, where=W).size == 8
    assert (
        one(budget_errors(Nested, {"grid": [[1], [2, 0]]}, where=W))
        == f"{W}: budget field 'grid[1][1]': expected an integer >= 1, got 0 (int)"
    )
    # An int-or-tuple field: several union members fail at one place, reported once.
    msg = one(budget_errors(Nested, {"size": "big"}, where=W))
    assert msg == f"{W}: budget field 'size': expected an integer or a list (items: an integer), got 'big' (str)"
    assert (
        one(budget_errors(Nested, {"size": [1, "x"]}, where=W))
        == f"{W}: budget field 'size[1]': expected an integer, got 'x' (str)"
    )


def test_required_field_without_default():
    assert (
        one(budget_errors(NeedsValue, {}, where=W))
        == f"{W}: budget field 'k': required (it has no default) but not given"
    )
    assert make_budget(NeedsValue, {"k": 2}, where=W) == NeedsValue(2)


@dataclasses.dataclass(frozen=True)
class Checked:
    lo: int = 1
    hi: int = 2

    def __post_init__(self):
        if self.lo > self.hi:
            raise ValueError("lo must not exceed hi")


def test_post_init_errors_are_reported_in_their_own_words():
    assert one(budget_errors(Checked, {"lo": 5}, where=W)) == f"{W}: budget: lo must not exceed hi"
    assert make_budget(Checked, {"hi": 9}, where=W) == Checked(1, 9)


def test_a_budget_must_be_a_dataclass():
    with pytest.raises(TypeError):
        budget_errors(dict, {}, where=W)


DEFAULTS = {
    "width": 256,
    "lr": 1e-3,
    "widths": (64, 64),
    "act": "relu",
    "bias": True,
    "init": None,
    "extra": {},
    "mix": (1, 2.5),
    "empty": (),
    "nested": ((1, 2), (3,)),
    "names": ["a", "b"],
}


@pytest.mark.parametrize(
    "name,value",
    [
        ("width", 512),
        ("lr", 1),
        ("lr", 0.5),
        ("widths", [8, 16, 32]),
        ("widths", []),
        ("act", "gelu"),
        ("bias", False),
        ("init", None),
        ("init", "glorot"),
        ("init", [1, "x"]),
        ("extra", {"a": [1]}),
        ("mix", [1, 2]),
        ("mix", [0.5]),
        ("empty", [1, "x", None]),
        ("nested", [[4], []]),
        ("names", ("c",)),
    ],
)
def test_params_good(name, value):
    assert param_errors(DEFAULTS, {name: value}, where=W) == []


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("width", 3.5, "'width': expected an integer, got 3.5 (float)"),
        ("width", "3", "'width': expected an integer, got '3' (str)"),
        ("width", True, "'width': expected an integer, got True (bool)"),
        ("lr", True, "'lr': expected a number, got True (bool)"),
        ("lr", "0.1", "'lr': expected a number, got '0.1' (str)"),
        ("widths", [8, 2.5], "'widths[1]': expected an integer, got 2.5 (float)"),
        ("widths", 8, "'widths': expected a list (items: an integer), got 8 (int)"),
        ("act", 3, "'act': expected a string, got 3 (int)"),
        ("bias", 1, "'bias': expected a boolean, got 1 (int)"),
        ("bias", "true", "'bias': expected a boolean, got 'true' (str)"),
        ("extra", [1], "'extra': expected a table, got [1] (list)"),
        ("mix", [1, True], "'mix[1]': expected a number, got True (bool)"),
        ("nested", [[1], [2, "x"]], "'nested[1][1]': expected an integer, got 'x' (str)"),
        ("names", ["a", 1], "'names[1]': expected a string, got 1 (int)"),
    ],
)
def test_params_refused(name, value, expected):
    assert one(param_errors(DEFAULTS, {name: value}, where=W)) == f"{W}: method parameter {expected}"


def test_param_none_default_still_wants_json_like():
    msg = one(param_errors(DEFAULTS, {"init": object()}, where=W))
    assert msg.startswith(f"{W}: method parameter 'init': expected a TOML/JSON value, got <object")


def test_params_annotations_override_inference():
    defaults = {"k": None, "rate": 1, "mode": "a", "later": 3}
    ann = {"k": Annotated[int, Gt(0)] | None, "rate": float, "mode": Literal["a", "b"], "later": "int"}
    assert param_errors(defaults, {"k": 3, "rate": 0.5, "mode": "b"}, where=W, annotations=ann) == []
    assert (
        one(param_errors(defaults, {"k": 0}, where=W, annotations=ann))
        == f"{W}: method parameter 'k': expected an integer > 0 or None, got 0 (int)"
    )
    assert param_errors(defaults, {"rate": 0.5}, where=W, annotations=ann) == []  # float annotation, int default
    assert one(param_errors(defaults, {"rate": 0.5}, where=W)).endswith("expected an integer, got 0.5 (float)")
    assert one(param_errors(defaults, {"mode": "c"}, where=W, annotations=ann)).endswith(
        "expected one of 'a', 'b', got 'c' (str)"
    )
    # A postponed (string) annotation cannot be resolved here: the default decides.
    assert one(param_errors(defaults, {"later": "x"}, where=W, annotations=ann)).endswith(
        "expected an integer, got 'x' (str)"
    )


def test_params_unknown_name_and_all_at_once():
    errors = param_errors(DEFAULTS, {"wdith": 1, "width": "x", "act": 1}, where=W)
    assert len(errors) == 3
    assert errors[0].startswith(f"{W}: method has no parameter 'wdith'; did you mean 'width'?")
    assert "did you mean" not in one(param_errors({"a": 1}, {"zzz": 1}, where=W))
    assert one(param_errors({}, {"x": 1}, where=W)) == f"{W}: method has no parameter 'x' (parameters: none)"


@pytest.mark.parametrize("value", [1, 3, 100])
def test_seeds_good(value):
    assert positive_int_errors(value, where="suites/x.toml, run 1", field="seeds") == []


@pytest.mark.parametrize("value", [0, -2, True, False, 2.0, 1.5, "3", None, [3]])
def test_seeds_refused(value):
    msg = one(positive_int_errors(value, where="suites/x.toml, run 1", field="seeds"))
    assert (
        msg == f"suites/x.toml, run 1: field 'seeds': expected an integer >= 1, got {value!r} ({type(value).__name__})"
    )


def test_module_imports_neither_jax_nor_ntkbench():
    path = pathlib.Path(__file__).resolve().parents[1] / "ntkbench" / "typecheck.py"
    code = (
        f"import importlib.util, sys; s = importlib.util.spec_from_file_location('tc', {str(path)!r}); "
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m); "
        "bad = [k for k in sys.modules if k.split('.')[0] in ('jax', 'ntkbench', 'flax')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
