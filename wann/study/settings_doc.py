"""The README's settings reference, made from the settings' own definitions.

    python -m wann.study.settings_doc            # print the tables (Markdown)
    python -m wann.study.settings_doc --check    # exit 1 when README.md's block differs
    python -m wann.study.settings_doc --write    # rewrite the block in README.md

The block sits between ``<!-- settings:begin -->`` and ``<!-- settings:end -->`` in README.md;
`tests/test_settings_reference.py` fails when it differs from what this module makes, and when a
key the code accepts has no meaning.

What is read from the code here, and what is written down in `wann.study.settings_meanings`:

- experiment files: the keys of every table are the fields of the dataclasses `Experiment`
  holds (`SearchSettings`, `VariationSettings`, `ExecutionSettings`, `IslandSettings`, `Limits`,
  and any table added the same way), with their types (the annotations) and defaults; a bound
  comes from the table's checks (``*CHECKS`` dicts: a check made by a factory with ``lo`` /
  ``hi`` / ``lo_open`` / ``hi_open`` in its closure reads as an interval) and from `BOUNDED` (the
  `Limits` field above a setting). The top-level keys are checked against what
  `experiment_from_dict` accepts;
- ``[task]``: the option names come from the task factories (the swing-up factory's
  signature, `classify.OPTIONS`, and the option list `make_gym_task` names when it refuses one);
  their types, defaults and bounds are written down (`TASK`);
- study files: the keys of each table come from `wann.study.spec` / `wann.study.axes`
  (``_STUDY_KEYS``, ``_EXEC_KEYS``, ``_TASK_KEYS``, ``_CLAIM_KEYS``; the tables themselves from
  what `study_from_dict` accepts); defaults are read from a minimal study loaded by
  `study_from_dict`; types, bounds and the defaults of required or derived keys are written
  down (`STUDY`).

Meanings are always written down there, next to their keys (`EXPERIMENT`, `TASK`, `STUDY`).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import typing
from dataclasses import MISSING, dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from wann.study import settings_meanings
from wann.study.settings_meanings import EXPERIMENT, STUDY, STUDY_TABLES, TASK, Key

BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"
README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class Row:
    key: str  # as printed: `[search] population`
    path: str  # as ConfigError names it: search.population
    type: str
    default: str
    bound: str
    meaning: str


def _pow(v: int) -> str:
    """10^k or 2^k when `v` is one, else the number with thousands separators."""
    for base in (10, 2):
        k = round(math.log(v, base)) if v > 0 else 0
        if k >= 4 and base**k == v:
            return f"{base}^{k}"
    return f"{v:,}"


def _constants() -> dict[str, Any]:
    from wann import activations, limits
    from wann.baselines.inits import SCHEMES
    from wann.study.axes import CLAIM_TESTS

    ids = sorted(activations.NAMES)
    return {
        "seed_limit": _pow(limits.SEED_LIMIT),
        "max_abs_weight": f"{limits.MAX_ABS_WEIGHT:g}",
        "max_workers": _pow(limits.MAX_WORKERS),
        "max_budget": _pow(limits.MAX_BUDGET),
        "max_episodes": _pow(limits.MAX_EPISODES),
        "activation_ids": f"{ids[0]}-{ids[-1]}" if ids == list(range(ids[0], ids[-1] + 1)) else str(ids),
        "inits": ", ".join(f"`{s}`" for s in SCHEMES),
        "claim_tests": ", ".join(f"`{t}`" for t in CLAIM_TESTS),
    }


# ---- reading the code ------------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    """A dataclass field's annotation (a string under `from __future__ import annotations`) in
    words; ValueError for one this module has no words for."""
    t = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    t = re.sub(r"\s*\|\s*None$", "", t.replace("Optional[", "").rstrip("]") if "Optional[" in t else t)
    scalars = {"int": "integer", "float": "number", "bool": "bool", "str": "string"}
    if t in scalars:
        return scalars[t]
    m = re.fullmatch(r"(?:tuple|list)\[(\w+), \.\.\.\]|list\[(\w+)\]", t)
    if m and (m.group(1) or m.group(2)) in scalars:
        word = scalars[m.group(1) or m.group(2)]
        return f"list of {word}s" if word != "bool" else "list of bools"
    raise ValueError(f"no words for the type {annotation!r}: add it to _type_name in {__name__}")


def _value(v: Any) -> str:
    """A default as TOML, in backticks."""

    def toml(x: Any) -> str:
        if isinstance(x, bool):
            return "true" if x else "false"
        if isinstance(x, int):
            return f"{x:_}" if abs(x) >= 10_000 else str(x)
        if isinstance(x, float):
            return repr(x)
        if isinstance(x, str):
            return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(x, (list, tuple)):
            return "[" + ", ".join(toml(y) for y in x) + "]"
        raise ValueError(f"cannot print the default {x!r}")

    return f"`{toml(v)}`"


def _interval(check: Any) -> str | None:
    """The bound a check factory closed over (``lo``, ``hi``, ``lo_open``, ``hi_open``), or None."""
    code, cells = getattr(check, "__code__", None), getattr(check, "__closure__", None)
    if code is None or not cells:
        return None
    env = dict(zip(code.co_freevars, (c.cell_contents for c in cells), strict=True))
    if "lo" not in env or not set(env) <= {"lo", "hi", "lo_open", "hi_open"}:
        return None
    lo, hi = env["lo"], env.get("hi")
    if hi is None:
        return f"> {lo:g}" if env.get("lo_open") else f">= {lo:g}"
    lb, rb = "(" if env.get("lo_open") else "[", ")" if env.get("hi_open") else "]"
    return f"{lb}{lo:g}, {hi:g}{rb}"


def _checks(sections: dict[str, type]) -> dict[str, Any]:
    """Every per-key check of the experiment: the ``*CHECKS`` dicts of `wann.search.experiment`
    and of the modules that define the tables' dataclasses."""
    from wann.search import experiment

    modules = {experiment} | {sys.modules[cls.__module__] for cls in sections.values()}
    out: dict[str, Any] = {}
    for mod in sorted(modules, key=lambda m: m.__name__):
        for name, value in vars(mod).items():
            if name.endswith("CHECKS") and isinstance(value, dict):
                out.update(value)
    return out


def _refused_keys(call, pattern: str) -> set[str]:
    """The keys a loader lists when it refuses an unknown one (`pattern` captures the list)."""
    from wann.errors import ConfigError

    try:
        call()
    except ConfigError as e:
        m = re.search(pattern, e.message)
        if m:
            return {k.strip() for k in m.group(1).split(",")}
    raise AssertionError(f"{call} did not list its keys (expected {pattern!r})")


def experiment_tables() -> tuple[dict[str, Any], dict[str, type]]:
    """The experiment's top-level fields that are not tables (name -> default) and its tables
    (name -> dataclass), from `Experiment`'s fields; ``task`` is neither (a free-form table)."""
    from wann.search.experiment import Experiment

    hints = typing.get_type_hints(Experiment)
    top, sections = {}, {}
    for f in fields(Experiment):
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        tables = [
            t for t in (hints[f.name], *typing.get_args(hints[f.name])) if isinstance(t, type) and is_dataclass(t)
        ]
        if tables:  # a table, always there (a default instance) or optional (`X | None = None`)
            sections[f.name] = tables[0]
        elif f.name != "task":
            top[f.name] = (f, default)
    return top, sections


def experiment_top_keys() -> set[str]:
    """The top-level keys `experiment_from_dict` accepts (read from its refusal of an unknown one)."""
    from wann.search.experiment import experiment_from_dict

    return _refused_keys(lambda: experiment_from_dict({"?": 1}), r"top-level keys are ([\w, ]+)")


def task_option_keys() -> set[str]:
    """Every option a file's [task] table may hold, from the task factories."""
    import inspect

    from wann.tasks import classify
    from wann.tasks import gym as gym_tasks
    from wann.tasks.registry import REGISTRY

    keys = {"name", "import"}
    for factory in REGISTRY.values():
        keys |= set(inspect.signature(factory).parameters)
    keys |= set(classify.OPTIONS)
    keys |= _refused_keys(lambda: gym_tasks.make_gym_task("CartPole-v1", **{"?": 1}), r"known options: ([\w, ]+)")
    return keys


def study_keys() -> dict[str, list[str]]:
    """A study file's tables and their keys, from `wann.study.spec` and `wann.study.axes`; the
    tables are checked against what `study_from_dict` accepts."""
    import importlib

    from wann.study.spec import study_from_dict

    accepted = _refused_keys(lambda: study_from_dict({"?": {}}, Path(".")), r"allowed: ([\w, ]+)")
    missing = accepted - set(STUDY_TABLES)
    if missing:
        where = settings_meanings.__name__
        raise AssertionError(f"study tables {sorted(missing)} are not in STUDY_TABLES of {where}")
    out = {}
    for table, (_, module, attr) in STUDY_TABLES.items():
        code = set(getattr(importlib.import_module(module), attr))
        written = [p.split(".", 1)[1] for p in STUDY if p.split(".", 1)[0] == table]
        out[table] = [k for k in written if k in code] + sorted(code - set(written))
    return out


def study_defaults() -> dict[str, Any]:
    """Defaults of a study file's keys, read from a minimal study as `study_from_dict` loads it
    (one fixed champion, the required keys only)."""
    from wann.study.spec import study_from_dict

    root = Path(__file__).resolve().parents[2]
    doc = {
        "study": {"name": "defaults", "seeds": [0]},
        "tasks": [{"champion": "experiments/results/wine/champion.json", "budget": 1}],
    }
    study = study_from_dict(doc, root)
    out = {}
    for table, keys in study_keys().items():
        obj = study.tasks[0] if table == "tasks" else study
        for k in keys:
            if table != "claims" and hasattr(obj, k):
                out[f"{table}.{k}"] = getattr(obj, k)
    return out


# ---- the rows --------------------------------------------------------------------------------


def _fill(text: str | None, consts: dict[str, Any]) -> str | None:
    return None if text is None else text.format(**consts)


def experiment_rows() -> list[Row]:
    from wann.search.experiment import BOUNDED
    from wann.tasks import classify

    consts = {**_constants(), "test_fraction": classify.TEST_FRACTION, "split_seed": classify.SPLIT_SEED}
    top, sections = experiment_tables()
    checks = _checks(sections)
    rows = []

    def row(label: str, path: str, f: Any, default: Any) -> Row:
        key = EXPERIMENT.get(path, Key(""))
        bound = _fill(key.bound, consts)
        if bound is None:
            bound = _interval(checks.get(path)) or ""
            if path in BOUNDED:
                lo = bound.removeprefix(">= ")
                bound = f"[{lo}, `limits.{BOUNDED[path]}`]"
        if key.note:
            bound = f"{bound}; {key.note}" if bound else key.note
        default_text = _fill(key.default, consts) or _value(default)
        return Row(label, path, key.type or _type_name(f.type), default_text, bound, key.meaning)

    for name, (f, default) in top.items():
        rows.append(row(f"`{name}`", name, f, default))
    from wann.search.experiment import Experiment

    task_default = Experiment().task
    for k in [p.split(".", 1)[1] for p in TASK] + sorted(task_option_keys() - {p.split(".", 1)[1] for p in TASK}):
        path = f"task.{k}"
        key = TASK.get(path, Key(""))
        default = _fill(key.default, consts) or (_value(task_default[k]) if k in task_default else "")
        rows.append(Row(f"`[task] {k}`", path, key.type or "", default, _fill(key.bound, consts) or "", key.meaning))
    for section, cls in sections.items():
        for f in fields(cls):
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            rows.append(row(f"`[{section}] {f.name}`", f"{section}.{f.name}", f, default))
    return rows


def study_rows() -> list[Row]:
    consts = _constants()
    defaults = study_defaults()
    rows = []
    for table, keys in study_keys().items():
        label = STUDY_TABLES[table][0]
        for k in keys:
            path = f"{table}.{k}"
            key = STUDY.get(path, Key(""))
            default = _fill(key.default, consts)
            if default is None:
                default = _value(defaults[path]) if path in defaults else ""
            rows.append(
                Row(f"`{label} {k}`", path, key.type or "", default, _fill(key.bound, consts) or "", key.meaning)
            )
    return rows


def missing(rows: list[Row] | None = None) -> list[str]:
    """Keys the code accepts that have no meaning (or no type, or no default) written down."""
    rows = experiment_rows() + study_rows() if rows is None else rows
    return [f"{r.path} ({what})" for r in rows for what in ("meaning", "type", "default") if not getattr(r, what)]


def unused() -> list[str]:
    """Keys written down that the code does not accept (yet, or any more)."""
    exp = {r.path for r in experiment_rows()}
    study = {r.path for r in study_rows()}
    return sorted(set(EXPERIMENT) - exp) + sorted(set(TASK) - exp) + sorted(set(STUDY) - study)


def _table(rows: list[Row]) -> list[str]:
    out = ["| key | type | default | bound | meaning |", "|---|---|---|---|---|"]
    out += [f"| {r.key} | {r.type} | {r.default} | {r.bound} | {r.meaning} |" for r in rows]
    return out


def fixed_bounds() -> str:
    from wann import limits

    return (
        "Fixed bounds (not overridable; they protect the kernels): genome files hold at most "
        f"{limits.MAX_GENOME_IO:,} inputs or outputs, {_pow(limits.MAX_GENOME_NODES)} nodes and "
        f"{_pow(limits.MAX_GENOME_CONNECTIONS)} connections; `wann evaluate --seed` < {_pow(limits.EVAL_SEED_LIMIT)}; "
        f"`wann train --budget` <= {_pow(limits.MAX_BUDGET)}; `wann evaluate --episodes` and `wann train --episodes` "
        f"<= {_pow(limits.MAX_EPISODES)}."
    )


def render() -> str:
    """The README block, markers included."""
    rows = experiment_rows()
    lines = [
        BEGIN,
        "<!-- made by `python -m wann.study.settings_doc --write` from the settings' definitions; edit the "
        "meanings in wann/study/settings_meanings.py, not here -->",
        "",
        "### Experiment files",
        "",
        *_table(rows),
        "",
        fixed_bounds(),
        "",
        "### Study files",
        "",
        *_table(study_rows()),
        END,
    ]
    return "\n".join(lines)


def readme_block(text: str) -> str:
    """The block of `text` between the markers, markers included (ValueError without them)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"README.md must hold {BEGIN} ... {END} once, in this order")
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m wann.study.settings_doc", description=__doc__.split("\n")[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true", help="rewrite the block in README.md")
    g.add_argument("--check", action="store_true", help="exit 1 when README.md's block differs")
    p.add_argument("--readme", type=Path, default=README, help="the README to read or write")
    args = p.parse_args(argv)
    gaps = missing()
    if gaps:
        print(f"keys without words in {settings_meanings.__name__}: " + ", ".join(gaps), file=sys.stderr)
        if args.write:
            return 1
    block = render()
    if not (args.write or args.check):
        print(block)
        return 1 if gaps else 0
    text = args.readme.read_text()
    old = readme_block(text)
    if args.check:
        stale = unused()
        if stale:
            print(f"written down but not accepted by the code (not printed): {', '.join(stale)}", file=sys.stderr)
        if old != block:
            print(f"{args.readme}: the settings reference is out of date; run python -m {__name__} --write")
            return 1
        return 1 if gaps else 0
    if old != block:
        args.readme.write_text(text.replace(old, block))
        print(f"{args.readme}: settings reference rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
