"""A study's cells as Ray tasks: `RayCellRunner`, the Ray side of the `CellRunner` interface
(`wann.executor.SerialCellRunner` is the in-process side).

Each cell is one Ray task of one CPU (retried twice by Ray if its worker dies), submitted as soon
as the scheduler has its inputs; `wait` returns the cells that finished, as (key, result, error).
While waiting, the runner checks that the Ray node is alive, so a dead raylet is named within
seconds instead of after a cell's time-out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import ray

from wann.distributed.cluster import check_ray_alive, connect

WAIT_S = 2.0  # one wait: then the node's health is checked again


class RayCellRunner:
    """Run callables as one-CPU Ray tasks, at most `concurrency` at once.

    address: a cluster to attach to (default: RAY_ADDRESS, else a private local Ray, shut down
    on close). workers: cells at once (0 = one per CPU of the cluster)."""

    def __init__(self, address: str | None = None, workers: int = 0):
        self._owns_ray = connect(address or None)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.concurrency = workers or cpus
        if self.concurrency > cpus:
            print(f"warning: {self.concurrency} concurrent cells on {cpus} CPUs; using {cpus}", file=sys.stderr)
            self.concurrency = cpus
        self._remote: dict[Callable, Any] = {}
        self._inflight: dict[Any, Any] = {}  # object ref -> key

    def running(self) -> int:
        return len(self._inflight)

    def submit(self, key: Any, fn: Callable, *args: Any) -> None:
        if fn not in self._remote:
            self._remote[fn] = ray.remote(num_cpus=1, max_retries=2, retry_exceptions=False)(fn)
        self._inflight[self._remote[fn].remote(*args)] = key

    def wait(self) -> list[tuple[Any, Any, str | None]]:
        """The calls that finished (at least one, unless none is running): (key, result, None) or
        (key, None, 'ErrorType: message')."""
        out: list[tuple[Any, Any, str | None]] = []
        while self._inflight and not out:
            done, _ = ray.wait(list(self._inflight), num_returns=1, timeout=WAIT_S)
            check_ray_alive()
            for ref in done:
                key = self._inflight.pop(ref)
                try:
                    out.append((key, ray.get(ref), None))
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as e:
                    out.append((key, None, f"{type(e).__name__}: {e}"))
        return out

    def close(self) -> None:
        for ref in self._inflight:
            ray.cancel(ref, force=True)
        self._inflight = {}
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
            self._owns_ray = False
