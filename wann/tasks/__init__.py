"""Tasks the search can run on, by name, and the registration of our Gymnasium environments.

A task turns (genomes, shared weights, rollout seeds) into episode returns. Every task exposes
the same small interface (`Task`); `make_task(name, **options)` builds one from the name an
experiment file gives, looked up in this order:

1. our own tasks (`REGISTRY`, `ALIASES`): the reference CartPoleSwingUp with its fused kernel;
2. classification data sets shipped with scikit-learn (`wann.tasks.classify`): digits, wine,
   breast_cancer, iris;
3. any id in ``gymnasium.registry`` (`wann.tasks.gym`; an unversioned name gets its highest
   version). Box2D environments are imported only when such an id is made.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np

from wann.errors import ConfigError
from wann.network import CompiledBatch

SWINGUP_ID = "wann/CartPoleSwingUp-v0"

# NB: `gymnasium` is not imported as `gym` here: the submodule wann.tasks.gym would shadow it.
if SWINGUP_ID not in gymnasium.registry:
    gymnasium.register(id=SWINGUP_ID, entry_point="wann.tasks.swingup:CartPoleSwingUpEnv", max_episode_steps=1000)


@dataclass
class Task:
    """Base of all tasks.

    name: the registry name; options: keyword options it was built with (recorded in results).
    n_inputs / n_outputs: network interface. max_steps: episode step limit.
    """

    name: str
    n_inputs: int
    n_outputs: int
    max_steps: int
    options: dict[str, Any] = field(default_factory=dict)
    #: activation ids hidden nodes may use on this task
    hidden_activations: tuple[int, ...] = tuple(range(1, 11))
    #: labels of the inputs, for drawings
    input_names: tuple[str, ...] = ()
    #: "rl" (episode returns) or "classify" (fitness -cross-entropy; assessed by test accuracy)
    kind: str = "rl"

    def spec(self) -> dict[str, Any]:
        """What rebuilds this task elsewhere (an actor, a resumed run): name + options."""
        return {"name": self.name, **self.options}

    @staticmethod
    def episode_rows(row_genome, row_weight, row_seed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The per-row arguments of `run_episodes` as contiguous (R,) arrays: genome index (int64),
        shared weight (float64) and seed (int64); a scalar weight or seed is broadcast to every row."""
        row_genome = np.asarray(row_genome, dtype=np.int64)
        R = row_genome.shape[0]
        row_weight = np.ascontiguousarray(np.broadcast_to(np.asarray(row_weight, dtype=np.float64), (R,)))
        row_seed = np.ascontiguousarray(np.broadcast_to(np.asarray(row_seed, dtype=np.int64), (R,)))
        return row_genome, row_weight, row_seed

    def run_episodes(
        self,
        batch: CompiledBatch,
        row_genome: np.ndarray,
        row_weight: np.ndarray,
        row_seed: np.ndarray,
        row_edge_weights: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run one episode per row. Rows of one genome are contiguous.

        row_genome (R,) int: genome index in `batch`; row_weight (R,) shared weight; row_seed (R,)
        reset seed; row_edge_weights optional (R, max_edges) individual weights (CSR edge order).
        Returns (returns (R,) float64, environment steps (R,) int64)."""
        raise NotImplementedError


class SwingUpTask(Task):
    """CartPoleSwingUp through the fused numba kernel (see `wann.tasks.swingup`)."""

    def run_episodes(self, batch, row_genome, row_weight, row_seed, row_edge_weights=None):
        from wann.tasks import swingup

        return swingup.run_episodes(batch, row_genome, row_weight, row_seed, row_edge_weights, max_steps=self.max_steps)


def _swingup(max_steps: int = 1000) -> Task:
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise ConfigError("task.max_steps", f"must be a positive integer, got {max_steps!r}")
    return SwingUpTask(
        SWINGUP_ID,
        5,
        1,
        max_steps,
        {"max_steps": max_steps} if max_steps != 1000 else {},
        input_names=("x", "x_dot", "cos th", "sin th", "th_dot"),
    )


#: name -> factory(**options) -> Task
REGISTRY: dict[str, Any] = {
    SWINGUP_ID: _swingup,
}
ALIASES = {"swingup": SWINGUP_ID, "CartPoleSwingUp": SWINGUP_ID, "CartPoleSwingUp-v0": SWINGUP_ID}


def make_task(name: str, **options: Any) -> Task:
    """Build a task by name (see the module docstring for the lookup order). ConfigError names
    the offending field and lists what is supported."""
    if not isinstance(name, str):
        raise ConfigError("task.name", f"must be a string, got {name!r}")
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


def task_from_spec(spec: dict[str, Any]) -> Task:
    spec = dict(spec)
    return make_task(spec.pop("name"), **spec)
