"""The interface every task implements (`Task`): episode returns of compiled genomes.

A task turns (genomes, shared weights, rollout seeds) into episode returns. The search compiles
a population into a `wann.network.CompiledBatch` and asks the task for R episodes at once, one
per row: row r runs genome ``row_genome[r]`` of the batch with the shared weight
``row_weight[r]`` (or, for trained nets, the individual weights ``row_edge_weights[r]`` in CSR
edge order), its environment reset with ``row_seed[r]``. `run_episodes` returns the returns
(R,) float64 (the task's reward units summed over the episode) and the environment steps (R,)
int64. Task families: `wann.tasks.swingup`, `wann.tasks.classify`, `wann.tasks.gym`; they are
built by name in `wann.tasks.registry`. `import_modules` imports the modules a task spec's
``import`` option names (a user's package that registers its own environments).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from wann.errors import ConfigError
from wann.network import CompiledBatch


class TaskKind(StrEnum):
    """What a task's score is: RL episode returns, or classification (fitness -cross-entropy
    on a minibatch; assessed by test accuracy). A str: results files record "rl" / "classify"."""

    RL = "rl"
    CLASSIFY = "classify"


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
    #: RL (episode returns) or CLASSIFY (fitness -cross-entropy; assessed by test accuracy)
    kind: TaskKind = TaskKind.RL

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


#: where an import failure is explained (every message about a module ends with this)
IMPORT_HINT = (
    "the module must be importable by the driver and by every Ray worker: install it (pip install), put "
    "its folder on PYTHONPATH, or ship it with the Ray job (runtime env py_modules / working_dir)"
)


def import_modules(modules: Any, field: str = "task.import") -> list[str]:
    """Import each named module (in order); return the names. ConfigError(field) naming the
    module when one cannot be imported (or raises while it is imported)."""
    if isinstance(modules, str) or not isinstance(modules, Sequence):
        raise ConfigError(field, f'must be a list of module names, e.g. import = ["mypkg.envs"], got {modules!r}')
    names = list(modules)
    for mod in names:
        if not isinstance(mod, str) or not mod.strip():
            raise ConfigError(field, f"must hold module names (non-empty strings), got {mod!r}")
        try:
            importlib.import_module(mod)
        except Exception as e:  # ImportError, or an error raised by the module's own code
            raise ConfigError(field, f"cannot import module {mod!r} ({type(e).__name__}: {e}); {IMPORT_HINT}") from None
    return names


__all__ = ["IMPORT_HINT", "Task", "import_modules"]
