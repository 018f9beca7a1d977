"""Evaluation on a pool of Ray actors (`RayExecutor`, the `Executor` interface on Ray).

`RayExecutor` keeps one long-lived `Evaluator` actor per CPU (configurable), each built once with
its task (and its compiled kernels). A generation's genomes are cut into batches sized to carry
tens of milliseconds of work, at most two calls are in flight per actor, and results are
collected with `ray.wait` as they finish. Because a genome's rewards depend only on (genome,
task, shared weight, seed), the batch a genome sits in and the actor that runs it change nothing:
the Ray executor returns bit-for-bit the numbers of `SerialExecutor`.

Faults: when a call fails because its actor died (a crash, `ray.kill`, a lost node), the batch
goes back in the queue and the actor is replaced by a fresh one; no finished batch is lost. If no
batch finishes for `stall_timeout` seconds (e.g. no CPU is left for a replacement actor), the
executor raises `WannError` with what to check, instead of hanging; a dead raylet is named within
seconds (`wann.distributed.cluster.check_ray_alive`).

Your own task on the workers. A named task travels as its spec and each actor rebuilds it with
`task_from_spec`, which first imports the spec's ``import`` modules (and the ``module:`` of a
``module:Env-v0`` name): the registration a user's module makes happens in every actor, also in
a replacement actor and on any node, whatever started Ray (this executor, a notebook's
``ray.init``, ``ray job submit``). Ray's runtime-env ``worker_process_setup_hook`` would do it
only for a job whose ``ray.init`` set it, and not in a Ray session someone else started. A task
object (`wann.tasks.function.FunctionTask`, any `Task`) has no spec: it is sent to the actors
as it is, pickled by Ray. The module must be importable on the workers (installed, on
PYTHONPATH, or shipped with the job's runtime env: ``py_modules`` / ``working_dir``);
an actor that cannot build the task reports the `ConfigError` it got, and the executor raises it
before any genome is evaluated.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import ray
from ray.exceptions import GetTimeoutError, RayActorError

from wann.distributed.cluster import _NodeWatch, connect, session_logs_dir
from wann.distributed.watchdog import stop_watchdog
from wann.errors import ConfigError, WannError
from wann.evaluate import Evaluation, evaluate, evaluate_weights
from wann.tasks import task_from_spec
from wann.tasks.base import IMPORT_HINT

try:  # Ray >= 2.x
    from ray.exceptions import ActorUnavailableError
except ImportError:  # pragma: no cover
    ActorUnavailableError = RayActorError


ACTOR_ERRORS = (RayActorError, ActorUnavailableError)
MAX_CALL_S = 2.0  # longest call (seconds of work) before batches are split further
IN_FLIGHT_PER_ACTOR = 2
HEALTH_EVERY_S = 1.0  # how often a waiting executor checks that the Ray node is alive


def _rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


@ray.remote(num_cpus=1)
class Evaluator:
    """One evaluation worker: builds its task once, then scores batches of genomes."""

    def __init__(self, task_spec: dict[str, Any] | Any):
        self._crash_next = False
        self.error: tuple[str, str] | None = None  # (field, message) of a task this actor cannot build
        try:
            self.task = task_from_spec(task_spec)
        except ConfigError as e:
            self.error = (e.field, e.message)
            return
        # compile the kernels now, not inside the first timed call
        from wann.genome import Genome

        g = Genome.initial(self.task.n_inputs, self.task.n_outputs, np.random.default_rng(0), 1.0)
        evaluate(self.task, [g], [1.0], [0])

    def info(self) -> dict[str, Any]:
        node = ray.get_runtime_context().get_node_id()
        return {"pid": os.getpid(), "node": node, "rss_mb": _rss_mb(), "error": self.error}

    def _check(self) -> None:
        if self.error:
            raise ConfigError(self.error[0], f"on a Ray worker (pid {os.getpid()}): {self.error[1]}")

    def arm_crash(self) -> None:
        """Testing hook: the next `evaluate` call kills this process (a crash inside a call)."""
        self._crash_next = True

    def evaluate_weights(self, batch_id: int, genome, weight_rows, seeds) -> dict[str, Any]:
        self._check()
        if self._crash_next:
            os._exit(1)
        t0, c0 = time.perf_counter(), time.process_time()
        rewards, steps = evaluate_weights(self.task, genome, weight_rows, seeds)
        return {
            "batch": batch_id,
            "rewards": rewards,
            "steps": steps,
            "compute_s": time.perf_counter() - t0,
            "cpu_s": time.process_time() - c0,
            "rss_mb": _rss_mb(),
            "pid": os.getpid(),
            "node": ray.get_runtime_context().get_node_id(),
        }

    def evaluate(self, batch_id: int, genomes, shared_weights, seeds) -> dict[str, Any]:
        self._check()
        if self._crash_next:
            os._exit(1)
        t0, c0 = time.perf_counter(), time.process_time()
        ev = evaluate(self.task, genomes, shared_weights, seeds)
        return {
            "batch": batch_id,
            "rewards": ev.rewards,
            "steps": ev.steps,
            "compute_s": time.perf_counter() - t0,
            "cpu_s": time.process_time() - c0,
            "rss_mb": _rss_mb(),
            "pid": os.getpid(),
            "node": ray.get_runtime_context().get_node_id(),
        }


def _cause(e: Exception) -> str:
    """': <the last line of Ray's error text>' (e.g. the ModuleNotFoundError of a task object
    whose function's module the worker cannot import, then what to do about it), or ''."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    if len(lines) < 2:
        return ""
    hint = f"; {IMPORT_HINT}" if "ModuleNotFoundError" in lines[-1] else ""
    return f": {lines[-1][:300]}{hint}"


class RayExecutor:
    """Evaluate on `workers` Ray actors (0 = one per CPU of the cluster).

    task_spec: {"name": ..., **options}, rebuilt on each actor, or a `Task` object, pickled to
    them. address: a cluster to attach to (default RAY_ADDRESS, else a local Ray started here).
    stall_timeout: seconds without any finished batch before giving up with an error.
    runtime_env: Ray runtime environment of the evaluator actors (default: the job's own), e.g.
    ``{"env_vars": {"PYTHONPATH": "/shared/code"}}`` for a package the task imports; at actor
    level Ray 2.60 takes env_vars, pip and remote (URI) py_modules / working_dir only, local
    folders are shipped at job level (``ray.init(runtime_env=...)``, ``ray job submit
    --working-dir``)."""

    def __init__(
        self,
        task_spec: dict[str, Any],
        workers: int = 0,
        address: str | None = None,
        stall_timeout: float = 120.0,
        num_cpus: int | None = None,
        runtime_env: dict[str, Any] | None = None,
    ):
        if workers < 0:
            raise ConfigError("workers", f"must be >= 0, got {workers}")
        self.task = task_from_spec(task_spec)  # bad task: fail here, before any actor starts
        self.task_spec = dict(task_spec) if isinstance(task_spec, dict) else self.task
        self.runtime_env = runtime_env
        self.stall_timeout = stall_timeout
        self._owns_ray = connect(address, num_cpus)
        self._watch = _NodeWatch()
        self._next_health = 0.0
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            self.close()
            raise WannError(
                "the Ray cluster reports no CPUs; start its nodes with --num-cpus >= 1 (`ray status` shows them)"
            )
        if workers == 0:
            workers = cpus
        elif workers > cpus:
            warnings.warn(
                f"workers={workers} is more than the cluster's {cpus} CPUs; extra evaluators would "
                f"wait for a CPU forever, so using {cpus}",
                stacklevel=2,
            )
            print(f"wann: warning: workers={workers} > {cpus} CPUs in the cluster; using {cpus}", file=sys.stderr)
            workers = cpus
        self.n_workers = workers
        self.restarts = 0
        self._cpu = 0.0
        self._per_item = None  # seconds of compute per genome (or weight row), measured
        self._last: dict[str, Any] = {}
        self._rss: dict[int, float] = {}
        self.actors = [self._new_actor() for _ in range(workers)]
        start_timeout = max(60.0, stall_timeout)
        refs = [a.info.remote() for a in self.actors]
        deadline = time.perf_counter() + start_timeout
        try:
            while True:
                _, pending = ray.wait(refs, num_returns=len(refs), timeout=HEALTH_EVERY_S)
                if not pending:
                    break
                self._check_health()
                if time.perf_counter() > deadline:
                    raise WannError(
                        f"{workers} evaluator actors did not start within {start_timeout:.0f} s; "
                        "are there free CPUs in the cluster (ray status)?"
                    )
            infos = ray.get(refs, timeout=start_timeout)
        except (WannError, GetTimeoutError) as e:
            self.close()
            if isinstance(e, WannError):
                raise
            raise WannError(f"{workers} evaluator actors did not answer; logs: {session_logs_dir()}") from None
        except ACTOR_ERRORS as e:
            self.close()
            raise WannError(
                f"an evaluator actor died while starting ({type(e).__name__}{_cause(e)}); logs: {session_logs_dir()}"
            ) from None
        failed = next((i for i in infos if i.get("error")), None)
        if failed:
            self.close()
            field, message = failed["error"]
            raise ConfigError(field, f"on a Ray worker (node {failed['node'][:12]}): {message}")
        self.nodes = {i["node"] for i in infos}

    def _check_health(self) -> None:
        """At most every HEALTH_EVERY_S: raise WannError when the raylet / local GCS is gone."""
        now = time.perf_counter()
        if now < self._next_health:
            return
        self._next_health = now + HEALTH_EVERY_S
        problem = self._watch.problem()
        if problem:
            raise WannError(f"{problem}. Finished generations are in the checkpoint (--resume)")

    def _new_actor(self):
        options: dict[str, Any] = {"scheduling_strategy": "SPREAD"}
        if self.runtime_env is not None:
            options["runtime_env"] = self.runtime_env
        return Evaluator.options(**options).remote(self.task_spec)

    # ---- the Executor interface ----------------------------------------------------------------
    def evaluate(self, genomes: Sequence[Any], shared_weights: Sequence[float], seeds: Sequence[int]) -> Evaluation:
        genomes = list(genomes)
        G, W, S = len(genomes), len(shared_weights), len(seeds)
        if G == 0:
            return Evaluation(np.zeros((0, W, S)), np.zeros((0, W, S), dtype=np.int64))
        sw, sd = list(map(float, shared_weights)), list(map(int, seeds))
        chunks = self._chunks(G)
        outs = self._dispatch(
            chunks, lambda actor, bid, idx: actor.evaluate.remote(bid, [genomes[i] for i in idx], sw, sd)
        )
        rewards = np.empty((G, W, S))
        steps = np.empty((G, W, S), dtype=np.int64)
        for bid, idx in enumerate(chunks):
            rewards[idx], steps[idx] = outs[bid]["rewards"], outs[bid]["steps"]
        return Evaluation(rewards, steps)

    def evaluate_weights(self, genome, weight_rows, seeds) -> tuple[np.ndarray, np.ndarray]:
        """(rewards (P, S), steps (P, S)) of one topology under P weight vectors, rows spread over
        the actors exactly like genomes."""
        weight_rows = np.atleast_2d(np.asarray(weight_rows, dtype=np.float64))
        P, S = weight_rows.shape[0], len(seeds)
        sd = list(map(int, seeds))
        chunks = self._chunks(P)
        outs = self._dispatch(
            chunks, lambda actor, bid, idx: actor.evaluate_weights.remote(bid, genome, weight_rows[idx], sd)
        )
        rewards, steps = np.empty((P, S)), np.empty((P, S), dtype=np.int64)
        for bid, idx in enumerate(chunks):
            rewards[idx], steps[idx] = outs[bid]["rewards"], outs[bid]["steps"]
        return rewards, steps

    def _chunks(self, n: int) -> list[list[int]]:
        """Two batches per actor (the in-flight depth), so each actor always has its next batch
        queued; batches longer than MAX_CALL_S (measured) are split further, down to eight per
        actor, so a lost actor costs little. Measured on the swing-up generation of `wann bench
        --scaling` (2 workers): 2 batches per actor 0.53 x serial, 4 per actor 0.55, 6 per actor 0.59."""
        workers = len(self.actors)
        size = math.ceil(n / (2 * workers))
        if self._per_item and size * self._per_item > MAX_CALL_S:
            size = max(math.ceil(n / (8 * workers)), math.ceil(MAX_CALL_S / self._per_item))
        return [list(range(lo, min(lo + size, n))) for lo in range(0, n, max(1, size))]

    def _dispatch(self, chunks: list[list[int]], submit) -> dict[int, dict[str, Any]]:
        """Run submit(actor, batch_id, indices) for every chunk on the pool; return outputs by
        batch id. Keeps up to IN_FLIGHT_PER_ACTOR calls per actor, re-queues the batches of dead
        actors, raises WannError when nothing finishes for `stall_timeout` seconds."""
        todo = deque(range(len(chunks)))
        in_flight: dict[Any, tuple[int, int]] = {}  # ref -> (batch id, actor slot)
        load = [0] * len(self.actors)
        outs: dict[int, dict[str, Any]] = {}
        t0 = time.perf_counter()
        last_progress = t0
        compute = 0.0
        nodes: set[str] = set()
        while todo or in_flight:
            # round-robin, least loaded first: one call per actor per pass
            while todo and min(load) < IN_FLIGHT_PER_ACTOR:
                slot = min(range(len(self.actors)), key=lambda i: load[i])
                bid = todo.popleft()
                in_flight[submit(self.actors[slot], bid, chunks[bid])] = (bid, slot)
                load[slot] += 1
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=HEALTH_EVERY_S)
            self._check_health()  # also while batches finish: actors outlive their raylet a while
            if not ready:
                if time.perf_counter() - last_progress > self.stall_timeout:
                    raise WannError(
                        f"no evaluator finished a batch for {self.stall_timeout:.0f} s ({len(in_flight)} calls "
                        f"waiting, {self.restarts} actors replaced so far). Workers may have died with no CPU "
                        "left to restart them: check `ray status`, free CPUs or lower --workers; finished "
                        f"generations are in the checkpoint (--resume); logs: {session_logs_dir()}"
                    )
                continue
            for ref in ready:
                bid, slot = in_flight.pop(ref)
                load[slot] -= 1
                try:
                    out = ray.get(ref)
                except ACTOR_ERRORS:
                    todo.appendleft(bid)
                    self._replace(slot, in_flight, todo, load)
                    continue
                outs[bid] = out
                compute += out["compute_s"]
                self._cpu += out["cpu_s"]
                self._rss[out["pid"]] = out["rss_mb"]
                nodes.add(out["node"])
                last_progress = time.perf_counter()
        wall = time.perf_counter() - t0
        n_items = sum(len(c) for c in chunks)
        self._per_item = compute / max(1, n_items)
        busy = compute / len(self.actors)
        self._last = {
            "eval_wall_s": wall,
            "compute_s": busy,
            "dispatch_s": max(0.0, wall - busy),
            "batches": len(chunks),
            "nodes_used": len(nodes),
        }
        return outs

    def _replace(self, slot: int, in_flight, todo, load) -> None:
        """The actor in `slot` died: requeue its other calls and start a fresh actor there."""
        dead = self.actors[slot]
        for ref, (bid, s) in list(in_flight.items()):
            if s == slot:
                del in_flight[ref]
                todo.appendleft(bid)
        load[slot] = 0
        try:
            ray.kill(dead, no_restart=True)
        except Exception:  # already gone
            pass
        self.actors[slot] = self._new_actor()
        self.restarts += 1
        self._rss = {}

    def stats(self) -> dict[str, Any]:
        rss = list(self._rss.values())
        return {
            "executor": "ray",
            "workers": len(self.actors),
            "restarts": self.restarts,
            "eval_cpu_s": self._cpu,
            "compute_s": self._last.get("compute_s", 0.0),
            "dispatch_s": self._last.get("dispatch_s", 0.0),
            "batches": self._last.get("batches", 0),
            "nodes_used": self._last.get("nodes_used", 0),
            "evaluator_rss_mb_max": max(rss) if rss else 0.0,
            "evaluator_rss_mb": ";".join(f"{x:.0f}" for x in rss),
        }

    def close(self) -> None:
        for a in getattr(self, "actors", []):
            try:
                ray.kill(a, no_restart=True)
            except Exception:
                pass
        self.actors = []
        if getattr(self, "_owns_ray", False) and ray.is_initialized():
            ray.shutdown()
            stop_watchdog()
            self._owns_ray = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
