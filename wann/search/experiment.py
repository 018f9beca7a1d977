"""Experiment files (TOML): one settings object per concept, validated where it is read.

An experiment file looks like::

    name = "swingup"
    seed = 0

    [task]
    name = "wann/CartPoleSwingUp-v0"   # plus any task options, e.g. max_steps = 1000
    # import = ["mypkg.envs"]          # modules imported first, by the driver and every worker

    [search]
    population = 192
    generations = 1024
    shared_weights = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]
    rollouts = 3
    p_init = 0.5
    tournament = 8
    cull = 0.2
    elite = 0.2
    connection_objective_prob = 0.8

    [variation]
    add_connection = 0.20
    insert_node = 0.25
    enable = 0.05
    change_activation = 0.50
    mutate_output_activation = false
    connection_rule = "acyclic"   # or "layered" (the reference's add-connection rule)
    # activations = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]   (default: the task's set)

    [execution]
    executor = "ray"          # or "serial"
    workers = 0               # 0 = one per available CPU

    [limits]                  # optional: raise the sanity bounds of `wann.limits` (cluster runs)
    population = 100000

    [islands]                 # optional: an island run (`wann.search.island_settings`)
    count = 4

Every key is checked: an unknown or misspelt key, a wrong type, a NaN or infinite number, an
out-of-range value or a size above its bound (`wann.limits`) raises `ConfigError` naming the
field and the fix, before any work starts. An empty file is refused (it would otherwise start the
full paper search); without a ``[task]`` table the task is the paper's swing-up.

Your own task: ``[task] import`` lists modules to import before the task is built (one that
registers a Gymnasium environment makes its id a task name); ``name = "module:Env-v0"``
(Gymnasium's form) imports ``module`` itself. Both stay in the task's spec, so every Ray worker
imports them too (`wann.tasks.registry`). From Python, `Experiment.task` may also be a `Task`
object (e.g. `wann.tasks.function.FunctionTask`): it travels to the workers by pickle.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from wann import activations
from wann.errors import ConfigError
from wann.files import read_text
from wann.limits import MAX_ABS_WEIGHT, MAX_WORKERS, SEED_LIMIT, Limits
from wann.search.island_settings import ISLAND_CHECKS, IslandSettings, check_islands
from wann.search.variation import CONNECTION_RULES, VariationSettings
from wann.seeds import DEFAULT_SHARED_WEIGHTS

#: experiment names become folder names: letters, digits, '.', '_', '-' (not leading '.')
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class SearchSettings:
    """The paper's swing-up settings by default (Gaier & Ha 2019, reference hyperparameters)."""

    population: int = 192
    generations: int = 1024
    shared_weights: tuple[float, ...] = DEFAULT_SHARED_WEIGHTS
    rollouts: int = 3
    p_init: float = 0.5
    tournament: int = 8
    cull: float = 0.2
    elite: float = 0.2
    connection_objective_prob: float = 0.8


@dataclass(frozen=True)
class ExecutionSettings:
    executor: str = "ray"
    workers: int = 0
    address: str = ""


@dataclass(frozen=True)
class Experiment:
    """One search. task: a spec ({"name": ..., **options}, what a file's [task] table holds;
    rebuilt by name wherever it runs) or, from Python, a `Task` object (sent to workers by
    pickle; `task_spec` is what is recorded of it)."""

    name: str = "experiment"
    seed: int = 0
    task: Any = field(default_factory=lambda: {"name": "wann/CartPoleSwingUp-v0"})
    search: SearchSettings = SearchSettings()
    variation: VariationSettings = VariationSettings()
    execution: ExecutionSettings = ExecutionSettings()
    limits: Limits = Limits()
    islands: IslandSettings | None = None  # [islands]: an island run (`wann.search.islands`)

    @property
    def task_spec(self) -> dict[str, Any]:
        """The task as a spec: `task` itself, or a task object's `spec()`."""
        return self.task if isinstance(self.task, dict) else self.task.spec()

    def resolved(self) -> Experiment:
        """The experiment with every task-dependent default filled in (the hidden activations
        of ``[variation]``: the task's set when not given). Files and Python give the same
        experiment once resolved."""
        if self.variation.activations is not None:
            return self
        from wann.tasks import task_from_spec

        acts = tuple(task_from_spec(self.task).hidden_activations)
        return self.replace(variation=dataclasses.replace(self.variation, activations=acts))

    def to_toml(self) -> str:
        """The experiment as TOML (what a run directory records as ``experiment.toml``), resolved;
        the ``[limits]`` table only when it differs from the defaults."""
        if self.variation.activations is None:
            return self.resolved().to_toml()
        lines = [f"name = {_toml_value(self.name)}", f"seed = {self.seed}", "", "[task]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in self.task_spec.items()]
        sections = ("search", "variation", "execution") + (("islands",) if self.islands is not None else ())
        sections += ("limits",) if self.limits != Limits() else ()
        for section in sections:
            lines += ["", f"[{section}]"]
            obj = getattr(self, section)
            lines += [
                f"{f.name} = {_toml_value(getattr(obj, f.name))}"
                for f in fields(obj)
                if not (f"{section}.{f.name}" in WRITTEN_WHEN_SET and getattr(obj, f.name) == f.default)
            ]
        return "\n".join(lines) + "\n"

    def replace(self, **changes: Any) -> Experiment:
        return dataclasses.replace(self, **changes)


#: settings added after runs were recorded: written (and so part of `experiment_identity`) only
#: when they differ from their default, so earlier runs keep their identity and still resume
WRITTEN_WHEN_SET = {"variation.connection_rule"}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


def _toml_key(k: Any) -> str:
    """A bare key when TOML allows one, else a quoted key (e.g. env_kwargs keys with dots)."""
    k = str(k)
    return k if k and all(c.isascii() and (c.isalnum() or c in "_-") for c in k) else _toml_value(k)


# ---- checks ---------------------------------------------------------------------------------


def _positive_int(lo: int = 1):
    def check(v):
        if v < lo:
            return f"must be >= {lo}"

    return check


def _fraction(lo: float, hi: float, lo_open=False, hi_open=False):
    def check(v):
        if (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi):
            lb = "(" if lo_open else "["
            rb = ")" if hi_open else "]"
            return f"must be in {lb}{lo}, {hi}{rb}"

    return check


CHECKS: dict[str, Any] = {
    "search.population": _positive_int(4),
    "search.generations": _positive_int(1),
    "search.rollouts": _positive_int(1),
    "search.tournament": _positive_int(1),
    "search.p_init": _fraction(0.0, 1.0, lo_open=True),
    "search.cull": _fraction(0.0, 1.0, hi_open=True),
    "search.elite": _fraction(0.0, 1.0, hi_open=True),
    "search.connection_objective_prob": _fraction(0.0, 1.0),
    "search.shared_weights": lambda v: (
        "must hold at least one value"
        if len(v) == 0
        else "must not repeat a value"
        if len(set(v)) != len(v)
        else f"values must lie in [-{MAX_ABS_WEIGHT:g}, {MAX_ABS_WEIGHT:g}]"
        if any(abs(x) > MAX_ABS_WEIGHT for x in v)
        else None
    ),
    "variation.add_connection": _fraction(0.0, 1.0),
    "variation.insert_node": _fraction(0.0, 1.0),
    "variation.enable": _fraction(0.0, 1.0),
    "variation.change_activation": _fraction(0.0, 1.0),
    "variation.connection_rule": lambda v: (
        None if v in CONNECTION_RULES else f"must be one of {', '.join(repr(r) for r in CONNECTION_RULES)}"
    ),
    "variation.activations": lambda v: (
        "must hold at least one id"
        if not v
        else f"unknown activation ids {[a for a in v if a not in activations.NAMES]}; known: {activations.describe()}"
        if any(a not in activations.NAMES for a in v)
        else None
    ),
    "execution.executor": lambda v: None if v in ("ray", "serial") else 'must be "ray" or "serial"',
    "execution.workers": lambda v: None if 0 <= v <= MAX_WORKERS else f"must be in [0, {MAX_WORKERS}]",
    "seed": lambda v: None if 0 <= v < SEED_LIMIT else "must be in [0, 2**32)",
    **{f"limits.{f.name}": _positive_int(1) for f in fields(Limits)},
    **ISLAND_CHECKS,
}

#: settings bounded by a `Limits` field (setting -> limit name)
BOUNDED = {
    "search.population": "population",
    "search.generations": "generations",
    "search.rollouts": "rollouts",
    "search.tournament": "tournament",
}


def check_bounds(exp: Experiment, source: str | None = None) -> None:
    """ConfigError when a size exceeds its bound in `exp.limits` (say how to raise it)."""
    lim = exp.limits

    def over(path: str, value: int, bound: int, key: str) -> ConfigError:
        return ConfigError(
            path,
            f"{value} is above the bound of {bound}; lower it, or raise the bound with [limits] {key} = {value} "
            "(see the settings reference in the README)",
            source,
        )

    for path, key in BOUNDED.items():
        value = getattr(exp.search, path.split(".")[1])
        if value > getattr(lim, key):
            raise over(path, value, getattr(lim, key), key)
    if len(exp.search.shared_weights) > lim.shared_weights:
        raise over("search.shared_weights", len(exp.search.shared_weights), lim.shared_weights, "shared_weights")
    if exp.search.tournament > exp.search.population:
        raise ConfigError(
            "search.tournament",
            f"{exp.search.tournament} is more than the population ({exp.search.population})",
            source,
        )
    per_gen = exp.search.population * len(exp.search.shared_weights) * exp.search.rollouts
    if per_gen > lim.episodes_per_generation:
        raise ConfigError(
            "search.population",
            f"population x shared weights x rollouts = {per_gen} episodes per generation, above the bound of "
            f"{lim.episodes_per_generation}; lower one of them, or raise [limits] episodes_per_generation",
            source,
        )
    max_steps = exp.task_spec.get("max_steps")
    if isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps > lim.max_steps:
        raise over("task.max_steps", max_steps, lim.max_steps, "max_steps")


def _coerce(value: Any, typ: Any, path: str, source: str | None) -> Any:
    """Check `value` against the dataclass field type `typ` (given as a string annotation)."""
    t = typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))

    def bad(expected: str):
        return ConfigError(path, f"expected {expected}, got {value!r} ({type(value).__name__})", source)

    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if t == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        if not math.isfinite(value):
            raise ConfigError(path, f"must be a finite number, got {value!r}", source)
        return float(value)
    if t == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if t == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if t.startswith("tuple[float"):
        if not isinstance(value, list) or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in value):
            raise bad("a list of numbers")
        if not all(math.isfinite(x) for x in value):
            raise ConfigError(path, f"must hold finite numbers only, got {value!r}", source)
        return tuple(float(x) for x in value)
    if t.startswith("tuple[int"):
        if not isinstance(value, list) or any(isinstance(x, bool) or not isinstance(x, int) for x in value):
            raise bad("a list of integers")
        return tuple(value)
    raise AssertionError(f"no coercion for {t}")


def _section(cls, data: Any, prefix: str, source: str | None):
    if not isinstance(data, dict):
        raise ConfigError(prefix, f"must be a table ([{prefix}]), got {data!r}", source)
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in data.items():
        path = f"{prefix}.{key}"
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(path, f"unknown setting; {hint}known settings: {', '.join(known)}", source)
        values[key] = _coerce(value, known[key].type, path, source)
        msg = CHECKS.get(path) and CHECKS[path](values[key])
        if msg:
            raise ConfigError(path, f"{msg}, got {value!r}", source)
    return cls(**values)


def experiment_from_dict(data: dict[str, Any], source: str | None = None) -> Experiment:
    """Validate a parsed TOML document into an Experiment (ConfigError on the first problem)."""
    top = {"name", "seed", "task", "search", "variation", "execution", "limits", "islands"}
    if not data:
        raise ConfigError(
            "experiment",
            'the file is empty; an experiment needs at least [task] name = "..." (see experiments/)',
            source,
        )
    for key in data:
        if key not in top:
            close = difflib.get_close_matches(key, top, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(key, f"unknown setting; {hint}top-level keys are {', '.join(sorted(top))}", source)
    name = _coerce(data.get("name", "experiment"), "str", "name", source)
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            "name",
            f"{name!r} cannot name a run folder: use up to 100 letters, digits, '.', '_' or '-' "
            "(not starting with '.'), e.g. name = \"swingup\"",
            source,
        )
    seed = _coerce(data.get("seed", 0), "int", "seed", source)
    if CHECKS["seed"](seed):
        raise ConfigError("seed", f"{CHECKS['seed'](seed)}, got {seed}", source)
    task = data.get("task", {"name": "wann/CartPoleSwingUp-v0"})
    if not isinstance(task, dict) or "name" not in task:
        raise ConfigError("task", 'must be a table with at least name = "<task id>"', source)
    _check_finite(task, "task", source)
    search = _section(SearchSettings, data.get("search", {}), "search", source)
    variation = _section(VariationSettings, data.get("variation", {}), "variation", source)
    if sum(variation.probabilities_raw()) <= 0:
        raise ConfigError("variation", "the four operator probabilities must not all be 0", source)
    execution = _section(ExecutionSettings, data.get("execution", {}), "execution", source)
    limits = _section(Limits, data.get("limits", {}), "limits", source)
    if search.population * (1 - search.cull) < 2:
        raise ConfigError("search.cull", "leaves fewer than 2 parents; lower cull or raise population", source)
    islands = _section(IslandSettings, data["islands"], "islands", source) if "islands" in data else None
    if islands is not None:
        check_islands(islands, search, source)
    exp = Experiment(name, seed, dict(task), search, variation, execution, limits, islands)
    check_bounds(exp, source)
    # the task must exist and accept its options (raises ConfigError naming task.*)
    from wann.tasks import make_task

    options = {k: v for k, v in task.items() if k != "name"}
    try:
        t = make_task(task["name"], **options)
    except ConfigError as e:
        raise ConfigError(e.field, e.message, source) from None
    if "activations" not in data.get("variation", {}):
        exp = exp.replace(variation=dataclasses.replace(variation, activations=tuple(t.hidden_activations)))
    return exp


def _check_finite(value: Any, path: str, source: str | None) -> None:
    """No NaN or infinity anywhere in a free-form table (task options, env_kwargs)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(path, f"must be a finite number, got {value!r}", source)
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{path}.{k}", source)
    elif isinstance(value, list):
        for v in value:
            _check_finite(v, path, source)


def parse_toml(path: str | Path, field: str, what: str) -> dict[str, Any]:
    """Read a TOML file (UTF-8, not empty of text) into a dict; one ConfigError(field) otherwise."""
    p = Path(path)
    text = read_text(p, field, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(field, f"{p} is not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(field, f"{p} is nested too deeply (a damaged file?); check the {what}") from None


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file."""
    return experiment_from_dict(parse_toml(path, "experiment", "experiment file (.toml)"), str(path))


def experiment_identity(exp: Experiment) -> str:
    """Hash of everything that determines results (not generations, not where it executes)."""
    body = replace(exp, search=replace(exp.search, generations=0), execution=type(exp.execution)(), limits=Limits())
    return hashlib.sha256(body.to_toml().encode()).hexdigest()[:16]
