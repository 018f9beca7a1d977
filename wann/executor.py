"""Executors: where evaluation runs. The search calls one interface; every executor gives the
same numbers for the same call (rewards depend only on genome, task, shared weight and seed).

`SerialExecutor` evaluates in-process. The Ray executor lives in `wann.distributed` (the only
module that imports Ray for evaluation) and implements the same methods.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from wann.evaluate import Evaluation, evaluate, evaluate_weights
from wann.genome import Genome
from wann.tasks import task_from_spec


class Executor(Protocol):
    def evaluate(self, genomes: Sequence[Genome], shared_weights: Sequence[float], seeds: Sequence[int]) -> Evaluation:
        """Rewards (G, W, S) of every genome at every shared weight and rollout seed."""

    def evaluate_weights(self, genome: Genome, weight_rows, seeds: Sequence[int]):
        """(rewards (P, S), steps (P, S)) of one topology under P individual weight vectors."""

    def stats(self) -> dict[str, Any]:
        """Numbers for the metrics row: at least `workers`, `cpu_s` (evaluation CPU seconds so
        far, all processes) and `compute_s` / `dispatch_s` of the last call."""

    def close(self) -> None: ...


class SerialExecutor:
    """Evaluate in this process. `task_spec`: {"name": ..., **options}."""

    def __init__(self, task_spec: dict[str, Any]):
        self.task = task_from_spec(task_spec)
        self._cpu = 0.0
        self._last = 0.0

    def evaluate(self, genomes, shared_weights, seeds) -> Evaluation:
        t0 = time.process_time()
        ev = evaluate(self.task, list(genomes), list(shared_weights), list(seeds))
        self._last = time.process_time() - t0
        self._cpu += self._last
        return ev

    def evaluate_weights(self, genome, weight_rows, seeds):
        t0 = time.process_time()
        out = evaluate_weights(self.task, genome, weight_rows, list(seeds))
        self._cpu += time.process_time() - t0
        return out

    def stats(self) -> dict[str, Any]:
        return {"executor": "serial", "workers": 1, "eval_cpu_s": self._cpu, "compute_s": self._last, "dispatch_s": 0.0}

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class CellRunner(Protocol):
    """Where a study's cells run: `submit(key, fn, *args)` queues ``fn(*args)``; `wait()` returns
    the calls that finished as (key, result, None) or (key, None, error text); at most
    `concurrency` run at once. `SerialCellRunner` runs them here, `wann.distributed.RayCellRunner`
    as one-CPU Ray tasks."""

    concurrency: int

    def submit(self, key: Any, fn: Any, *args: Any) -> None: ...

    def wait(self) -> list[tuple[Any, Any, str | None]]: ...

    def running(self) -> int: ...

    def close(self) -> None: ...


class SerialCellRunner:
    """Run each submitted call in this process when `wait` is called (one at a time); an
    exception becomes the call's error (its traceback), KeyboardInterrupt propagates."""

    concurrency = 1

    def __init__(self):
        self._queue: list[tuple[Any, Any, tuple]] = []

    def running(self) -> int:
        return len(self._queue)

    def submit(self, key: Any, fn: Any, *args: Any) -> None:
        self._queue.append((key, fn, args))

    def wait(self) -> list[tuple[Any, Any, str | None]]:
        if not self._queue:
            return []
        key, fn, args = self._queue.pop(0)
        try:
            return [(key, fn(*args), None)]
        except Exception:
            import traceback

            return [(key, None, traceback.format_exc())]

    def close(self) -> None:
        self._queue = []
