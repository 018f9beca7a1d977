"""Islands on Ray: `RayIslands`, one long-lived actor per island (`wann.search.islands` on Ray).

The island logic lives in `wann.search.islands` (the distribution layer does not import the
search; the island arrives as a picklable factory, ``factory(state) -> island``): each
`IslandActor` builds its island once and runs its calls in-process. An island evaluates its own
sub-population in its actor (one CPU), or, when the run has more evaluators than islands
(`workers`, 0 meaning one per CPU of the cluster: ``workers // count`` each, at least 2), through
an evaluator pool of its own (`wann.distributed.RayExecutor`, made inside the actor; the actor
itself then reserves no CPU, and its pool dies with it). The driver only routes migrants between
epochs.

`map(method, args)` calls the method on every island at once and returns the results in island
order. Faults: the driver keeps each island's state at the last epoch's end (`commit`) and the
calls made since. When an actor dies (a crash, ``ray.kill``, a lost node), a fresh actor is
built from that state and the calls since are replayed before the failed call is sent again;
an island's calls are pure functions of its state, so the run ends identical to an
uninterrupted one. A dead raylet is named within seconds; a replacement actor that does not
start within `start_timeout` (no CPU left for it) raises `WannError` instead of hanging.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from wann.distributed.cluster import _NodeWatch, connect, session_logs_dir
from wann.distributed.watchdog import stop_watchdog
from wann.errors import ConfigError, WannError

try:  # Ray >= 2.x
    from ray.exceptions import ActorUnavailableError
except ImportError:  # pragma: no cover
    ActorUnavailableError = RayActorError

ACTOR_ERRORS = (RayActorError, ActorUnavailableError)
HEALTH_EVERY_S = 1.0


@ray.remote(num_cpus=1, max_restarts=0)
class IslandActor:
    """One island in its own process: `factory(state, pool)` builds it (pool: None, or an
    evaluator pool of `evaluators` actors made here); `call` runs its methods."""

    def __init__(self, factory: Callable[..., Any], state: Any, evaluators: int = 1):
        self.error: tuple[str, str] | None = None
        self._crash: str | None = None
        self.pool = None
        try:
            if evaluators > 1:
                from wann.distributed.pool import RayExecutor

                self.pool = RayExecutor(factory.task_spec, workers=evaluators)
            self.island = factory(state, self.pool)
        except ConfigError as e:
            self.error = (e.field, e.message)

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(), "error": self.error}

    def arm_crash(self, method: str) -> None:
        """Testing hook: the next call of `method` kills this process (a crash inside a call)."""
        self._crash = method

    def call(self, method: str, args: tuple) -> Any:
        if self.error:
            raise ConfigError(self.error[0], f"on a Ray worker (pid {os.getpid()}): {self.error[1]}")
        if self._crash == method:
            os._exit(1)
        return getattr(self.island, method)(*args)


class RayIslands:
    """Run islands as Ray actors. address: a cluster to attach to (default RAY_ADDRESS, else a
    private local Ray with `num_cpus` CPUs, shut down on close). workers: evaluators in all (0:
    one per CPU of the cluster); each island gets ``workers // count`` of them, and with fewer
    than 2 it evaluates in its own actor (one CPU). runtime_env: of the island actors (their
    pools inherit it; see `wann.distributed.RayExecutor`)."""

    kind = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        start_timeout: float = 120.0,
        runtime_env: dict[str, Any] | None = None,
        workers: int = 0,
    ):
        if workers < 0:
            raise ConfigError("workers", f"must be >= 0, got {workers}")
        self.workers = workers
        self.per_island = 1
        self.start_timeout = start_timeout
        self.runtime_env = runtime_env
        self._owns_ray = connect(address, num_cpus)
        self._watch = _NodeWatch()
        self._next_health = 0.0
        self.actors: list[Any] = []
        self.restarts = 0
        self.nodes: dict[int, str] = {}

    # ---- actors --------------------------------------------------------------------------------
    def _new_actor(self, k: int):
        options: dict[str, Any] = {"scheduling_strategy": "SPREAD", "num_cpus": 1 if self.per_island < 2 else 0}
        if self.runtime_env is not None:
            options["runtime_env"] = self.runtime_env
        return IslandActor.options(**options).remote(self.factories[k], self.states[k], self.per_island)

    def _check_health(self) -> None:
        now = time.perf_counter()
        if now >= self._next_health:
            self._next_health = now + HEALTH_EVERY_S
            problem = self._watch.problem()
            if problem:
                raise WannError(f"{problem}. Finished epochs are in the checkpoint (--resume)")

    def _wait_started(self, ks: list[int]) -> None:
        refs = {self.actors[k].info.remote(): k for k in ks}
        deadline = time.perf_counter() + self.start_timeout
        try:
            while True:
                _, pending = ray.wait(list(refs), num_returns=len(refs), timeout=HEALTH_EVERY_S)
                if not pending:
                    break
                self._check_health()
                if time.perf_counter() > deadline:
                    raise WannError(
                        f"{len(pending)} island actors did not start within {self.start_timeout:.0f} s; each island "
                        "needs a free CPU: check `ray status`, add nodes or lower islands.count"
                    )
            infos = {k: ray.get(ref, timeout=self.start_timeout) for ref, k in refs.items()}
        except GetTimeoutError:
            raise WannError(f"island actors did not answer; logs: {session_logs_dir()}") from None
        except ACTOR_ERRORS as e:
            raise WannError(
                f"an island actor died while starting ({type(e).__name__}); logs: {session_logs_dir()}"
            ) from None
        for k, info in infos.items():
            if info.get("error"):
                field, message = info["error"]
                raise ConfigError(field, f"on a Ray worker (node {info['node'][:12]}): {message}")
            self.nodes[k] = info["node"]

    def start(self, factories: list[Any], states: list[Any]) -> None:
        """One actor per island, built from `factories[k](states[k], pool)`."""
        cpus, n = int(ray.cluster_resources().get("CPU", 0)), len(factories)
        if n > cpus:
            raise WannError(
                f"{n} islands need {n} CPUs (one actor each); the Ray cluster has {cpus}: "
                "lower islands.count, add nodes, or run with the serial executor"
            )
        per = (self.workers or cpus) // n
        self.per_island = per if per >= 2 else 1
        if self.per_island > 1 and n * self.per_island > cpus:
            raise WannError(
                f"{n} islands x {self.per_island} evaluators need {n * self.per_island} CPUs; the Ray cluster has "
                f"{cpus}: lower execution.workers (0: one per CPU) or add nodes"
            )

        self.factories, self.states = list(factories), list(states)
        self.log: list[list[tuple[str, tuple]]] = [[] for _ in factories]
        self.actors = [self._new_actor(k) for k in range(len(factories))]
        try:
            self._wait_started(list(range(len(factories))))
        except BaseException:
            self.close()
            raise

    def _replace(self, k: int) -> None:
        """Island k's actor died: a fresh one from its committed state, replaying the calls since."""
        for _attempt in range(3):
            try:
                ray.kill(self.actors[k], no_restart=True)
            except Exception:  # already gone
                pass
            self.actors[k] = self._new_actor(k)
            self.restarts += 1
            try:
                self._wait_started([k])
                for method, args in self.log[k]:
                    ray.get(self.actors[k].call.remote(method, args))
                return
            except ACTOR_ERRORS:
                continue
        raise WannError(f"island {k}'s actor died 3 times in a row while restarting; logs: {session_logs_dir()}")

    # ---- calls ---------------------------------------------------------------------------------
    def map(self, method: str, args: list[tuple]) -> list[Any]:
        """`method(*args[k])` on every island k at once; results in island order."""
        n = len(self.actors)
        out: dict[int, Any] = {}
        refs = {self.actors[k].call.remote(method, args[k]): k for k in range(n)}
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=HEALTH_EVERY_S)
            self._check_health()
            for ref in ready:
                k = refs.pop(ref)
                try:
                    out[k] = ray.get(ref)
                except ACTOR_ERRORS:
                    self._replace(k)
                    refs[self.actors[k].call.remote(method, args[k])] = k
        for k in range(n):
            self.log[k].append((method, args[k]))
        return [out[k] for k in range(n)]

    def commit(self, states: list[Any]) -> None:
        """The islands' states at an epoch's end: lost actors restart from here."""
        self.states = list(states)
        self.log = [[] for _ in states]

    def arm_crash(self, k: int, method: str) -> None:
        """Testing hook: island k's actor dies in its next `method` call."""
        ray.get(self.actors[k].arm_crash.remote(method))

    def stats(self) -> dict[str, Any]:
        return {
            "executor": "ray",
            "workers": len(self.actors) * self.per_island,
            "evaluators_per_island": self.per_island,
            "restarts": self.restarts,
            "nodes_used": len(set(self.nodes.values())),
        }

    def close(self) -> None:
        for a in self.actors:
            try:
                ray.kill(a, no_restart=True)
            except Exception:
                pass
        self.actors = []
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
            stop_watchdog()
            self._owns_ray = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
