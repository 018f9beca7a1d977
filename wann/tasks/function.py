"""A Python fitness function as a task (`FunctionTask`): bring your own score, from Python.

``FunctionTask(fitness, n_inputs, n_outputs)`` scores a network by calling ``fitness(net)``,
where ``net`` is the network (one genome at one shared weight, or with individual weights) as a
function: ``net(obs)`` maps observations (B, n_inputs) to outputs (B, n_outputs), float64 (a
single observation (n_inputs,) gives (n_outputs,)). The return value is the network's score
(higher is better; a finite number). The search calls it once per (genome, shared weight,
rollout) episode, as it runs one episode of an environment.

- Determinism. `fitness` must be a pure function of what it is given: the scores, and so the
  search, are then the same on every executor, worker count and batch split. With
  ``seeded=True`` it is called as ``fitness(net, seed)`` with the rollout's seed (an int; build
  ``numpy.random.default_rng(seed)`` for any randomness). Without a seed every rollout would
  give the same score, so each (genome, weight) is scored once per call and the score repeated
  for its rollouts (set ``rollouts = 1`` in the search to spend nothing on them).
- Steps. An episode's step count is the number of observation rows its network was given.
- Vectorised. ``vectorized=True``: ``fitness(net)`` (or ``fitness(net, seeds)`` with a (K,)
  int64 array) scores K networks at once and returns K scores; ``net(obs)`` takes observations
  shared by all networks (B, n_inputs) or one set per network (K, B, n_inputs) and returns
  (K, B, n_outputs), computed by one compiled forward pass over all K x B rows. At most `chunk`
  networks go in one call. Use it when Python per call dominates (small B, many networks).
- Ray. A `FunctionTask` has no spec to rebuild it from a name: executors send the object itself
  to their workers (pickled by Ray's cloudpickle). A function defined in the script you run
  (``__main__``), a lambda or a local function travels by value; a function in a module
  travels by reference, so that module must be importable on every worker (installed, on
  PYTHONPATH, or shipped with the Ray job's runtime env, ``py_modules`` / ``working_dir``).
  Its spec (``{"name": ..., "function": "module:qualname"}``) is what champion files and
  ``experiment.toml`` record; rebuilding a task from it is refused with a clear message.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wann import activations
from wann.errors import ConfigError, WannError
from wann.network import CompiledBatch, forward
from wann.tasks.base import Task

#: default most networks per call of a vectorised fitness (bounds the memory of its inputs)
CHUNK = 256


def _positive(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"task.{field}", f"must be a positive integer, got {value!r}")
    return int(value)


@dataclass(eq=False, init=False)
class FunctionTask(Task):
    """A task whose score is ``fitness(net)`` (see the module docstring).

    fitness: the score of one network (or of K networks with ``vectorized=True``). n_inputs /
    n_outputs: the network interface. name: recorded in results (default: the function's name).
    seeded: pass the rollout seed(s) as a second argument. vectorized: score K networks per call.
    chunk: most networks per vectorised call. hidden_activations / input_names: as on `Task`."""

    fitness: Callable[..., Any] | None = None
    seeded: bool = False
    vectorized: bool = False
    chunk: int = CHUNK

    def __init__(
        self,
        fitness: Callable[..., Any],
        n_inputs: int,
        n_outputs: int,
        *,
        name: str | None = None,
        seeded: bool = False,
        vectorized: bool = False,
        chunk: int = CHUNK,
        hidden_activations: tuple[int, ...] = tuple(range(1, 11)),
        input_names: tuple[str, ...] = (),
    ):
        if not callable(fitness):
            raise ConfigError("task.fitness", f"must be a function fitness(net) -> score, got {fitness!r}")
        acts = tuple(hidden_activations)
        bad = [a for a in acts if a not in activations.NAMES]
        if not acts or bad:
            raise ConfigError(
                "task.hidden_activations", f"must be activation ids from {activations.describe()}, got {acts!r}"
            )
        if name is None:
            name = getattr(fitness, "__name__", type(fitness).__name__)
        super().__init__(
            str(name),
            _positive(n_inputs, "n_inputs"),
            _positive(n_outputs, "n_outputs"),
            max_steps=1,
            hidden_activations=acts,
            input_names=tuple(input_names),
        )
        self.fitness = fitness
        self.seeded = bool(seeded)
        self.vectorized = bool(vectorized)
        self.chunk = _positive(chunk, "chunk")

    def spec(self) -> dict[str, Any]:
        """What results record: the name and where the function lives (it cannot be rebuilt)."""
        f = self.fitness
        where = f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', type(f).__qualname__)}"
        return {"name": self.name, "function": where}

    def run_episodes(
        self,
        batch: CompiledBatch,
        row_genome: np.ndarray,
        row_weight: np.ndarray,
        row_seed: np.ndarray,
        row_edge_weights: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        rg, w, seeds = self.episode_rows(row_genome, row_weight, row_seed)
        ew = None if row_edge_weights is None else np.asarray(row_edge_weights, dtype=np.float64)
        if self.seeded or ew is not None:
            pick, back = np.arange(rg.shape[0]), None
        else:  # an unseeded score depends only on (genome, weight): once per pair, in row order
            key = np.stack([rg, w.view(np.int64)], axis=1)
            _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")
            pick, back = first[order], np.argsort(order)[inverse.reshape(-1)]
        sub = (rg[pick], w[pick], seeds[pick], None if ew is None else ew[pick])
        score = self._vectorised if self.vectorized else self._one_by_one
        ret, steps = score(batch, *sub)
        return (ret, steps) if back is None else (ret[back], steps[back])

    # ---- the two ways of calling `fitness` ----------------------------------------------------

    def _one_by_one(self, batch, rg, w, seeds, ew):
        K = rg.shape[0]
        ret, steps = np.zeros(K), np.zeros(K, dtype=np.int64)
        for k in range(K):
            net = _Net(self, batch, rg[k : k + 1], w[k : k + 1], None if ew is None else ew[k : k + 1], single=True)
            out = self.fitness(net, int(seeds[k])) if self.seeded else self.fitness(net)
            ret[k] = self._finite(out)
            steps[k] = net.rows
        return ret, steps

    def _vectorised(self, batch, rg, w, seeds, ew):
        K = rg.shape[0]
        ret, steps = np.zeros(K), np.zeros(K, dtype=np.int64)
        for a in range(0, K, self.chunk):
            b = min(K, a + self.chunk)
            net = _Net(self, batch, rg[a:b], w[a:b], None if ew is None else ew[a:b], single=False)
            out = self.fitness(net, seeds[a:b].copy()) if self.seeded else self.fitness(net)
            try:
                scores = np.asarray(out, dtype=np.float64)
            except (TypeError, ValueError):
                scores = None
            if scores is None or scores.shape != (b - a,):
                raise WannError(
                    f"fitness {self.name!r} (vectorized) must return {b - a} scores, one per network, got {out!r:.200}"
                )
            for k, s in enumerate(scores):
                ret[a + k] = self._finite(s)
            steps[a:b] = net.rows
        return ret, steps

    def _finite(self, value: Any) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            x = None
        if x is None or not math.isfinite(x):
            raise WannError(
                f"fitness {self.name!r} must return a finite number, got {value!r:.200}; map bad networks to a "
                "low finite score (network outputs can be inf or nan: numpy.nan_to_num helps)"
            )
        return x


class _Net:
    """The network(s) handed to `fitness`: call it with observations. single: one network,
    (B, n_in) -> (B, n_out); else K networks, (B, n_in) or (K, B, n_in) -> (K, B, n_out).
    `rows` counts the observation rows each network was given."""

    def __init__(self, task: FunctionTask, batch, rg, w, ew, single: bool):
        self.task, self.batch, self.rg, self.w, self.ew, self.single = task, batch, rg, w, ew, single
        self.rows = 0

    @property
    def n_inputs(self) -> int:
        return self.task.n_inputs

    @property
    def n_outputs(self) -> int:
        return self.task.n_outputs

    def __call__(self, obs) -> np.ndarray:
        n_in, K = self.task.n_inputs, self.rg.shape[0]
        x = np.asarray(obs, dtype=np.float64)
        one = self.single and x.ndim == 1
        if one:
            x = x[None, :]
        if not self.single and x.ndim == 2:
            x = np.broadcast_to(x, (K, *x.shape))
        want = "(B, n_inputs) or (n_inputs,)" if self.single else "(B, n_inputs) or (K, B, n_inputs)"
        if x.shape[-1:] != (n_in,) or x.ndim != (2 if self.single else 3) or (not self.single and x.shape[0] != K):
            raise WannError(
                f"fitness {self.task.name!r}: the network takes observations of shape {want} with "
                f"n_inputs = {n_in}{'' if self.single else f', K = {K}'}, got shape {np.shape(obs)}"
            )
        B = x.shape[-2]
        rows_g = np.repeat(self.rg, B)
        rows_w = np.repeat(self.w, B)
        rows_ew = None if self.ew is None else np.repeat(self.ew, B, axis=0)
        out = forward(self.batch, rows_g, x.reshape(-1, n_in), rows_w, rows_ew)
        self.rows += B
        if self.single:
            return out[0] if one else out
        return out.reshape(K, B, self.task.n_outputs)


__all__ = ["CHUNK", "FunctionTask"]
