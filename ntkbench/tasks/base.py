"""What a task is to the harness: a protocol with a version, a typed budget, metrics and hooks.

The runner, the leaderboard and `reproduce` know tasks only through this class: a task package
(`ntkbench/tasks/<name>/`, or a third party's, through the `ntkbench.tasks` entry point group)
subclasses `Task`, sets the class attributes and overrides the hooks it needs.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from annotated_types import Ge, Gt, Le

from ntkbench.data.base import Dataset
from ntkbench.engine.seeds import Timing
from ntkbench.registry import MethodSpec, PluginError
from ntkbench.tasks.claims import Claim
from ntkbench.typecheck import ConfigError, make_budget


class ContractError(PluginError):
    """A method's output broke its task's contract (wrong count, shape, NaN, peeking...)."""


BudgetT = TypeVar("BudgetT")


@dataclasses.dataclass
class RunContext(Generic[BudgetT]):
    """What `Task.run` gets. `budget` is the task's `Budget` instance (`Task.typed_budget`): typed
    fields, arrays as tuples, the protocol's per-dataset values resolved (`effective_budget`).
    The result file records the budget as the suite wrote it, not this view."""

    method: MethodSpec
    dataset: Dataset
    params: dict[str, Any]
    budget: BudgetT
    seeds: int
    root_seed: int
    vmap_seeds: bool
    log: Callable[[str], None] = lambda msg: None
    timing: Timing = dataclasses.field(default_factory=Timing)


@dataclasses.dataclass
class TaskOutput:
    metrics: dict[str, dict]
    ntk: dict[str, Any]
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class MetricSpec:
    """One metric (or a family: `<...>` in the name matches any text, e.g. `test_acc@n=<n>`)."""

    name: str
    unit: str = ""
    higher_is_better: bool | None = True  # None: neither (a diagnostic, an exponent)
    headline: bool = False  # the number that sums a run up (the runner prints it)
    missing: str = "—"  # shown where the mean is null (e.g. n* not reached: "> n_max")
    description: str = ""
    # What `ntkbench validate` checks against per_seed. per_run: computed once per run, not per
    # seed (per_seed holds that one value). seeds_field: a budget field (e.g. "gap_seeds") that
    # caps the seeds it is computed for (per_seed: the first min(budget[field], seeds)).
    # mean_of_seeds False: the task defines the mean otherwise (e.g. n* of the mean curve), so
    # only std and ci95 follow from per_seed.
    per_run: bool = False
    seeds_field: str = ""
    mean_of_seeds: bool = True

    def matches(self, metric: str) -> bool:
        pattern = "^" + ".+".join(re.escape(part) for part in re.split(r"<[^>]*>", self.name)) + "$"
        return re.match(pattern, metric) is not None


@dataclasses.dataclass(frozen=True)
class EmptyBudget:
    """A task without budget fields."""


class Task:
    """A protocol. Subclasses set the ClassVars and override `run` (and any other hook)."""

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    Budget: ClassVar[type] = EmptyBudget  # frozen dataclass: fields, types, ranges, defaults
    metrics: ClassVar[tuple[MetricSpec, ...]] = ()
    published: ClassVar[tuple[dict, ...]] = ()  # published numbers `ntkbench reproduce` checks
    claims: ClassVar[tuple[Claim, ...]] = ()  # claims `ntkbench reproduce --claims` tests
    datasets: ClassVar[tuple[str, ...]] = ()  # datasets the protocol names (others may still work)
    # What a full-protocol result needs (`ntkbench.tasks.conformance`): at least this many seeds,
    # and every budget field at its protocol value except these, which pick a point of the
    # protocol's grid or one of its stated variants.
    protocol_seeds: ClassVar[int] = 3
    grid_fields: ClassVar[frozenset[str]] = frozenset()
    # Budget fields that count training examples (an int or a list of them): a suite asking for
    # more than the dataset's training split is refused before anything runs, where the size is
    # known without loading (`ntkbench.data.registry.train_size`).
    train_count_fields: ClassVar[frozenset[str]] = frozenset()

    @property
    def protocol(self) -> str:
        """The protocol's text: the docstring of the task's package (`ntkbench/tasks/<name>/`), or
        of its module for a task that is a single module."""
        module = type(self).__module__
        for name in (module.rpartition(".")[0], module):
            doc = getattr(sys.modules.get(name), "__doc__", None) if name else None
            if doc and doc.strip():
                return inspect.cleandoc(doc)
        return ""

    @property
    def budget_defaults(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self.Budget()))

    def resolve_budget(self, budget: Mapping[str, Any] | None, *, context: str = "") -> dict[str, Any]:
        """Defaults updated with `budget`, every value checked against `Budget`'s types and ranges.
        The values are kept as written (an int stays an int), so config hashes do not move: this
        dict is what result files record and hash; the task code reads `typed_budget`."""
        budget = dict(budget or {})
        self._make_budget(budget, context)
        return {**self.budget_defaults, **budget}

    def typed_budget(self, dataset: str, budget: Mapping[str, Any] | None = None, *, context: str = "") -> Any:
        """The `Budget` instance the task code reads for a run on `dataset`: `budget` (a resolved
        or partial budget dict; missing fields take their defaults) checked and typed (arrays as
        tuples, ints of float fields as floats), then `effective_budget`."""
        return self.effective_budget(dataset, self._make_budget(dict(budget or {}), context))

    def _make_budget(self, budget: Mapping[str, Any], context: str) -> Any:
        try:
            return make_budget(self.Budget, budget, where=context.rstrip(": ") or f"task {self.name!r}")
        except ConfigError as e:
            raise ValueError("; ".join(e.errors)) from None

    def effective_budget(self, dataset: str, budget: Any) -> Any:
        """The typed budget with any "None: the protocol's value for this dataset" resolved (e.g.
        with `dataclasses.replace`), so that writing the protocol's value out and leaving the
        default compare equal, and the task code reads the value and not None. The one place such
        a None is resolved. A None that is itself the protocol's choice ("all": the whole split)
        stays None. Default: as is."""
        return budget

    def grid_deviations(self, dataset: str, budget: Any) -> list[str]:
        """Deviations within `grid_fields` (e.g. a learning curve missing the protocol's n) of the
        typed, effective budget. Default none."""
        return []

    def run(self, ctx: RunContext) -> TaskOutput:
        raise NotImplementedError

    def aggregate(self, records: list[dict]) -> list[dict]:
        """Results derived across runs (e.g. an exponent over a grid of datasets). Default none."""
        return []

    def censoring(self, record: dict, metric: str) -> tuple[float | None, float | None]:
        """(bound, floor) of `metric` in a finished record where its seeds can be censored (see
        `ntkbench.results.metric`): `ntkbench upgrade` re-summarises older files with it, by the
        rules the task's `run` writes now. Default: none known (a seed without a value is still
        censored, with no bound)."""
        return None, None

    def deterministic(self, record: dict, metric: str, method_extras: dict[str, Any]) -> bool:
        """Whether every seed of `metric` in a finished record is one and the same computation (one
        effective sample; see `ntkbench.results.metric`); `method_extras`: the method's registered
        extras. Default: no."""
        return False

    def own_mean(self, record: dict, metric: str) -> float | None:
        """The mean of a `mean_of_seeds=False` metric as the task defines it, from the record (e.g.
        n* of the mean curve; None: not reached). Default: the recorded mean."""
        m = record["metrics"][metric]
        return m.get("mean")

    def metric_spec(self, metric: str) -> MetricSpec | None:
        return next((m for m in self.metrics if m.matches(metric)), None)

    def headline(self, record: dict) -> tuple[str, dict] | None:
        """(metric name, metric) a result is summarised and ranked by: the last metric matching a
        headline spec, in the order the task wrote them."""
        found = [
            (k, v)
            for k, v in (record.get("metrics") or {}).items()
            if isinstance(v, dict) and (spec := self.metric_spec(k)) is not None and spec.headline
        ]
        return found[-1] if found else None

    def figures(self, records: list[dict]) -> list[Any]:
        """Charts (`ntkbench.charts`) for the leaderboard page of one dataset. Default none."""
        return []


def _plain(x: Any) -> Any:
    """Tuples -> lists, as the budget is written to (and hashed from) JSON."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def method_failure(spec: MethodSpec, exc: BaseException) -> str:
    """A short, readable error: the exception and the innermost frames, plugin code first."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if "/jax/" not in f.filename and "/flax/" not in f.filename][-3:]
    where = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in mine)
    return f"method {spec.name!r} from {spec.origin} failed: {type(exc).__name__}: {exc}" + (
        f" [at {where}]" if where else ""
    )


# Field types for `Budget` dataclasses: checked by `ntkbench.typecheck` before anything compiles.
PositiveInt = Annotated[int, Gt(0)]
NonNegativeInt = Annotated[int, Ge(0)]
PositiveFloat = Annotated[float, Gt(0)]
NonNegativeFloat = Annotated[float, Ge(0)]
Percent = Annotated[float, Ge(0), Le(100)]
# Gradient steps (a method parameter or a budget field). `train_params` draws every step's keys
# before its training scan, 16 bytes a step and seed: 10^7 steps hold 160 MB per seed beside the
# model, 10^8 would not fit a few vmapped seeds on one device. No protocol here runs 10^5.
MAX_STEPS = 10**7
Steps = Annotated[int, Gt(0), Le(MAX_STEPS)]
