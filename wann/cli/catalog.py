"""`wann tasks`: every task wann runs, with its kind and sizes, and the registered Gymnasium ids
it refuses, with why.

The list is made, not written down: each built-in task and classification data set is built
(`make_task`), and every id in ``gymnasium.registry`` goes through the same acceptance as a
search (`wann.tasks.gym.make_gym_task`): a flat Box observation, and a Discrete or 1-D Box
action. An id without a registered episode limit is tried again with ``max_steps``; when that
works it is listed as supported, with the note to set ``max_steps``.
"""

from __future__ import annotations

import json
import re
import textwrap
import warnings
from typing import Any

from wann.errors import ConfigError

#: max_steps tried for an id that registers no episode limit
TRY_MAX_STEPS = 1000
OWN = (
    'your own: a module that registers a Gymnasium id, named in the task table (import = ["mypkg.envs"], '
    'or name = "mypkg.envs:MyEnv-v0"); a Python fitness function: wann.FunctionTask, from Python'
)


def _entry(task, **extra: Any) -> dict[str, Any]:
    d = {"name": task.name, "kind": str(task.kind), "inputs": task.n_inputs, "outputs": task.n_outputs}
    return {**d, **extra}


def _reason(env_id: str, message: str) -> str:
    """The part of a refusal that says why (without the id and the list of what is supported)."""
    from wann.tasks.gym import SUPPORTED

    text = message.replace(f"; {SUPPORTED}", "").split(". Flatten")[0]
    text = text.replace(f"cannot create {env_id}: ", "cannot be created: ")
    if text.startswith(env_id + " "):
        text = text[len(env_id) + 1 :]
    text = re.sub(r"\s*\(https?://[^)]*\)", "", " ".join(text.split()))
    return text if len(text) <= 160 else text[:157] + "..."


def _gym(env_id: str) -> tuple[dict[str, Any] | None, str | None]:
    """(entry, None) for an id wann accepts, (None, why) for one it refuses."""
    from wann.tasks.gym import make_gym_task

    note = None
    try:
        try:
            task = make_gym_task(env_id)
        except ConfigError as e:
            if e.field != "task.max_steps":
                raise
            task = make_gym_task(env_id, max_steps=TRY_MAX_STEPS)
            note = "no registered episode limit: set max_steps in the task table"
    except ConfigError as e:
        return None, _reason(env_id, e.message)
    except Exception as e:  # an environment that breaks on creation
        return None, _reason(env_id, f"cannot be created: {type(e).__name__}: {e}")
    space = f"Discrete({task.n_outputs}), argmax" if task.discrete else f"Box({task.n_outputs}), clipped"
    extra = {"action": space, "max_steps": None if note else task.max_steps, "numpy_twin": bool(task.twin)}
    return _entry(task, **extra, **({"note": note} if note else {})), None


def catalog() -> dict[str, Any]:
    """{"builtin", "classification", "gymnasium": [entries], "refused": [{"name", "why"}]}."""
    import gymnasium

    from wann.draw import input_grid_shape
    from wann.tasks import ALIASES, REGISTRY, classify, make_task

    builtin = []
    for name in REGISTRY:
        task = make_task(name)
        aliases = [a for a, k in ALIASES.items() if k == name]
        builtin.append(_entry(task, max_steps=task.max_steps, aliases=aliases))
    datasets = []
    for name in classify.DATASETS:
        task = make_task(name)
        shape = input_grid_shape(list(task.input_names), task.n_inputs)
        datasets.append(
            _entry(
                task,
                classes=task.n_classes,
                train_samples=len(task.y_train),
                test_samples=len(task.y_test),
                **({"image": f"{shape[0]}x{shape[1]}"} if shape else {}),
            )
        )
    accepted, refused = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for env_id in sorted(gymnasium.registry):
            if env_id in REGISTRY:
                continue
            entry, why = _gym(env_id)
            if entry is not None:
                accepted.append(entry)
            else:
                refused.append({"name": env_id, "why": why})
    return {"builtin": builtin, "classification": datasets, "gymnasium": accepted, "refused": refused, "own": OWN}


def _n(k: int, what: str) -> str:
    return f"{k:>3} {what}" + ("" if k == 1 else "es" if what.endswith("s") else "s")


def format_catalog(c: dict[str, Any]) -> str:
    """The catalog as the text `wann tasks` prints: one line per task, refused ids by reason."""
    every = c["builtin"] + c["classification"] + c["gymnasium"]
    w = max(len(e["name"]) for e in every) + 2
    lines = ['Tasks (the name goes in an experiment\'s [task] name = "...", or after --task):', "", "built in"]
    for e in c["builtin"]:
        lines.append(
            f"  {e['name']:<{w}}{e['kind']:<9}{_n(e['inputs'], 'input')} {_n(e['outputs'], 'output')}  "
            f"{e['max_steps']} steps  (also: {', '.join(e['aliases'])})"
        )
    lines += ["", "classification data sets (fitness: minus cross-entropy on a minibatch; scored by test accuracy)"]
    for e in c["classification"]:
        lines.append(
            f"  {e['name']:<{w}}{e['kind']:<9}{_n(e['inputs'], 'input')} {_n(e['classes'], 'class')}  "
            f"{e['train_samples']} train / {e['test_samples']} test samples"
            + (f", {e['image']} images" if "image" in e else "")
        )
    lines += ["", "Gymnasium environments (a flat Box observation; a Discrete or 1-D Box action)"]
    for e in c["gymnasium"]:
        steps = f"{e['max_steps']} steps" if e["max_steps"] else e.get("note", "")
        twin = ", numpy twin" if e["numpy_twin"] else ""
        size = f"{_n(e['inputs'], 'input')} {_n(e['outputs'], 'output')}"
        lines.append(f"  {e['name']:<{w}}{e['kind']:<9}{size}  {e['action']}, {steps}{twin}")
    lines += ["", f"registered Gymnasium ids refused ({len(c['refused'])}), by reason"]
    by_why: dict[str, list[str]] = {}
    for e in c["refused"]:
        by_why.setdefault(e["why"], []).append(e["name"])
    for why, ids in by_why.items():
        lines.append(f"  {why.rstrip('.')}:")
        lines += textwrap.wrap(", ".join(ids), 116, initial_indent="    ", subsequent_indent="    ")
    lines += ["", c["own"]]
    return "\n".join(lines)


def cmd_tasks(args) -> int:
    c = catalog()
    print(json.dumps(c, indent=1) if args.json else format_catalog(c))
    return 0
