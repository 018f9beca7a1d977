"""Tasks the search can run on, by name, and the registration of our Gymnasium environments.

A task turns (genomes, shared weights, rollout seeds) into episode returns. Every task exposes
the same small interface (`Task`); `make_task(name, **options)` builds one from the name an
experiment file gives.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from wann.errors import ConfigError
from wann.network import CompiledBatch

SWINGUP_ID = "wann/CartPoleSwingUp-v0"

if SWINGUP_ID not in gym.registry:
    gym.register(id=SWINGUP_ID, entry_point="wann.tasks.swingup:CartPoleSwingUpEnv", max_episode_steps=1000)


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

    def spec(self) -> dict[str, Any]:
        """What rebuilds this task elsewhere (an actor, a resumed run): name + options."""
        return {"name": self.name, **self.options}

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
    """Build a task by registry name (or alias). ConfigError lists what is supported."""
    if not isinstance(name, str):
        raise ConfigError("task.name", f"must be a string, got {name!r}")
    key = ALIASES.get(name, name)
    if key not in REGISTRY:
        known = sorted(REGISTRY) + sorted(ALIASES)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError("task.name", f"unknown task {name!r}.{hint} Supported: {', '.join(sorted(REGISTRY))}")
    try:
        return REGISTRY[key](**options)
    except TypeError as e:
        raise ConfigError("task", f"bad option for {key}: {e}") from None


def task_from_spec(spec: dict[str, Any]) -> Task:
    spec = dict(spec)
    return make_task(spec.pop("name"), **spec)
