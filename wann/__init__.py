"""wann: a distributed search service for Weight Agnostic Neural Networks (Gaier & Ha, 2019).

The public API (everything a user needs from Python; see the README's "Python API")::

    import wann

    task = wann.make_task("swingup")                    # a Task: n_inputs, n_outputs, kind ...
    exp = wann.Experiment(task=task.spec(), search=wann.SearchSettings(generations=50))
    result = wann.run_search(exp)                       # no folder unless out=...; Ray by default
    champion = result.state.best                        # a Genome; its meta records its task
    wann.assess(champion, episodes=100)                 # the paper's weight conditions

- Search: `Experiment`, `SearchSettings`, `VariationSettings`, `ExecutionSettings`,
  `IslandSettings` (an island run: ``exp.replace(islands=wann.IslandSettings(count=8))``),
  `load_experiment`, `Search` (pure ask/tell, `Search.for_task`), `SearchState`, `run_search`,
  `RunResult`, `Reporter` (hooks after each generation).
- Networks and tasks: `Genome`, `Task`, `make_task`, `task_from_spec`, `FunctionTask` (a Python
  fitness function as a task; ``Experiment(task=FunctionTask(...))`` runs on Ray too). Your own
  Gymnasium environment: ``[task] import = ["mypkg.envs"]`` or ``name = "mypkg.envs:Env-v0"``.
- Evaluation: `evaluate` (rewards of genomes x shared weights x rollout seeds), `Evaluation`,
  `SerialExecutor`, `RayExecutor` (imports Ray on first use), `assess`.
- Counterparts and studies: `train` (any method of the registry), `METHODS`, `Study`,
  `load_study`, `run_study`, `StudyReporter` (hooks after each cell), `write_report`.
- Errors: `WannError`, `ConfigError` (bad input, naming the setting), `GenomeError`.

Names are resolved on first use, so ``import wann`` stays cheap and imports neither Ray nor torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> (module, attribute)
_API: dict[str, tuple[str, str]] = {
    "Experiment": ("wann.search.experiment", "Experiment"),
    "SearchSettings": ("wann.search.experiment", "SearchSettings"),
    "ExecutionSettings": ("wann.search.experiment", "ExecutionSettings"),
    "VariationSettings": ("wann.search.variation", "VariationSettings"),
    "IslandSettings": ("wann.search.island_settings", "IslandSettings"),
    "load_experiment": ("wann.search.experiment", "load_experiment"),
    "Search": ("wann.search.search", "Search"),
    "SearchState": ("wann.search.search", "SearchState"),
    "run_search": ("wann.search.run", "run_search"),
    "RunResult": ("wann.search.run", "RunResult"),
    "Reporter": ("wann.search.reporters", "Reporter"),
    "Genome": ("wann.genome", "Genome"),
    "Task": ("wann.tasks", "Task"),
    "make_task": ("wann.tasks", "make_task"),
    "task_from_spec": ("wann.tasks", "task_from_spec"),
    "FunctionTask": ("wann.tasks.function", "FunctionTask"),
    "evaluate": ("wann.evaluate", "evaluate"),
    "Evaluation": ("wann.evaluate", "Evaluation"),
    "SerialExecutor": ("wann.executor", "SerialExecutor"),
    "RayExecutor": ("wann.distributed.pool", "RayExecutor"),
    "assess": ("wann.measures.assess", "assess"),
    "train": ("wann.baselines", "train"),
    "METHODS": ("wann.baselines.methods", "REGISTRY"),
    "Study": ("wann.study.spec", "Study"),
    "load_study": ("wann.study.spec", "load_study"),
    "run_study": ("wann.study.scheduler", "run_study"),
    "StudyReporter": ("wann.study.scheduler", "StudyReporter"),
    "write_report": ("wann.analysis.report", "write_report"),
    "WannError": ("wann.errors", "WannError"),
    "ConfigError": ("wann.errors", "ConfigError"),
    "GenomeError": ("wann.errors", "GenomeError"),
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        module, attr = _API[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'wann' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
