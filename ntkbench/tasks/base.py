"""What a task is to the engine: a protocol with a version, budget defaults and metrics."""

from __future__ import annotations

import dataclasses
import traceback
from typing import Any, Callable

from ntkbench.data.base import Dataset
from ntkbench.engine.seeds import Timing
from ntkbench.registry import MethodSpec, PluginError


class ContractError(PluginError):
    """A method's output broke its task's contract (wrong count, shape, NaN, peeking...)."""


@dataclasses.dataclass
class RunContext:
    method: MethodSpec
    dataset: Dataset
    params: dict[str, Any]
    budget: dict[str, Any]
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


class Task:
    name: str = ""
    version: int = 1
    budget_defaults: dict[str, Any] = {}
    datasets: tuple[str, ...] = ()  # datasets the protocol names (others may still work)

    def resolve_budget(self, budget: dict[str, Any] | None, *, context: str = "") -> dict[str, Any]:
        budget = dict(budget or {})
        unknown = sorted(set(budget) - set(self.budget_defaults))
        if unknown:
            raise ValueError(f"{context}task {self.name!r} has no budget field {unknown[0]!r}; "
                             f"its fields: {', '.join(self.budget_defaults)}")
        return {**self.budget_defaults, **budget}

    def run(self, ctx: RunContext) -> TaskOutput:
        raise NotImplementedError

    def aggregate(self, records: list[dict]) -> list[dict]:
        """Results derived across runs (e.g. an exponent over a grid of datasets). Default none."""
        return []


def method_failure(spec: MethodSpec, exc: BaseException) -> str:
    """A short, readable error: the exception and the innermost frames, plugin code first."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if "/jax/" not in f.filename and "/flax/" not in f.filename][-3:]
    where = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in mine)
    return f"method {spec.name!r} from {spec.origin} failed: {type(exc).__name__}: {exc}" + (f" [at {where}]" if where else "")
