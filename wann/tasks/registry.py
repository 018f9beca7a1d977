"""Tasks by name: `make_task`, `task_from_spec`, and the registration of our Gymnasium environment.

`make_task(name, **options)` builds a task from the name an experiment file gives, looked up in
this order:

1. our own tasks (`REGISTRY`, `ALIASES`): the reference CartPoleSwingUp with its fused kernel;
2. classification data sets (`wann.tasks.classify`): digits, wine, breast_cancer, iris (shipped
   with scikit-learn) and mnist1d (MNIST-1D, generated offline by the mnist1d package);
3. any id in ``gymnasium.registry`` (`wann.tasks.gym`; an unversioned name gets its highest
   version). Box2D environments are imported only when such an id is made. Gymnasium's own
   ``module:Env-v0`` form imports ``module`` (which registers ``Env-v0``) first.

Your own task. The option ``import`` (``[task] import = ["mypkg.envs"]``) names modules that
are imported before the name is looked up: a module that registers a Gymnasium environment (or
adds a factory to `REGISTRY`) makes its names available. The modules stay in the task's spec, so
every process that rebuilds the task from it (a Ray evaluator, a study cell, a resumed run)
imports them again first; a module that cannot be imported is a `ConfigError` naming
``task.import`` (``task.name`` for the ``module:`` form). A Python task object (e.g.
`wann.tasks.function.FunctionTask`) has no spec to rebuild from: `task_from_spec` passes a
`Task` through unchanged, and executors send such an object to their workers by pickle.

Importing this module registers ``wann/CartPoleSwingUp-v0`` (`SWINGUP_ID`) with Gymnasium.
"""

from __future__ import annotations

import difflib
from typing import Any

import gymnasium

from wann.errors import ConfigError
from wann.tasks.base import IMPORT_HINT, Task, import_modules
from wann.tasks.swingup import SWINGUP_ID, make_swingup_task

# NB: `gymnasium` is not imported as `gym` in this package: the submodule wann.tasks.gym would
# shadow it in the package's namespace.
if SWINGUP_ID not in gymnasium.registry:
    gymnasium.register(id=SWINGUP_ID, entry_point="wann.tasks.swingup:CartPoleSwingUpEnv", max_episode_steps=1000)


#: name -> factory(**options) -> Task
REGISTRY: dict[str, Any] = {
    SWINGUP_ID: make_swingup_task,
}
ALIASES = {"swingup": SWINGUP_ID, "CartPoleSwingUp": SWINGUP_ID, "CartPoleSwingUp-v0": SWINGUP_ID}


def make_task(name: str, **options: Any) -> Task:
    """Build a task by name (see the module docstring for the lookup order). ConfigError names
    the offending field and lists what is supported."""
    if not isinstance(name, str):
        raise ConfigError("task.name", f"must be a string, got {name!r}")
    if "function" in options:
        raise ConfigError(
            "task.function",
            f"{name!r} is a Python fitness function ({options['function']}), which cannot be rebuilt from a "
            "file or a name; run it from Python: wann.run_search(wann.Experiment(task=wann.FunctionTask(...)))",
        )
    if "import" not in options:
        return _make(name, options)
    options = dict(options)
    modules = import_modules(options.pop("import"))
    task = _make(name, options)
    task.options = {"import": modules, **task.options}  # in the spec: rebuilt elsewhere, imported again
    return task


def _make(name: str, options: dict[str, Any]) -> Task:
    key = ALIASES.get(name, name)
    if key in REGISTRY:
        try:
            return REGISTRY[key](**options)
        except TypeError as e:
            raise ConfigError("task", f"bad option for {key}: {e}") from None
    from wann.tasks import classify

    if name in classify.DATASETS:
        unknown = sorted(set(options) - set(classify.OPTIONS))
        if unknown:
            close = difflib.get_close_matches(unknown[0], classify.OPTIONS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            known = ", ".join(classify.OPTIONS)
            raise ConfigError(f"task.{unknown[0]}", f"unknown option for {name}; {hint}known options: {known}")
        return classify.make_classify_task(name, **options)
    from wann.tasks import gym as gym_tasks

    try:
        return gym_tasks.make_gym_task(name, **options)
    except KeyError:
        pass
    raise ConfigError("task.name", _unknown(name))


def _unknown(name: str) -> str:
    from wann.tasks import classify
    from wann.tasks import gym as gym_tasks

    ours = sorted(REGISTRY) + sorted(ALIASES) + list(classify.DATASETS)
    known = ours + sorted(gymnasium.registry)
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(by_lower[c]) for c in close)}?" if close else ""
    return (
        f"unknown task {name!r}.{hint} Supported: {SWINGUP_ID} (alias swingup); classification data sets "
        f"{', '.join(classify.DATASETS)}; or any of the {len(gymnasium.registry)} registered Gymnasium ids with "
        f"a flat Box observation and a Discrete or Box action, e.g. {', '.join(gym_tasks.EXAMPLES)}"
    )


def task_from_spec(spec: dict[str, Any] | Task) -> Task:
    """The task a spec ({"name": ..., **options}, as `Task.spec()` and champion files record it)
    describes; ConfigError as `make_task`. A `Task` object is returned as it is (a Python task
    that travels by pickle, not by spec)."""
    if isinstance(spec, Task):
        return spec
    spec = dict(spec)
    return make_task(spec.pop("name"), **spec)


__all__ = ["ALIASES", "IMPORT_HINT", "REGISTRY", "SWINGUP_ID", "import_modules", "make_task", "task_from_spec"]
