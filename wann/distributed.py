"""Evaluation on a pool of Ray actors: the only module that imports Ray for evaluation.

`RayExecutor` keeps one long-lived `Evaluator` actor per CPU (configurable), each built once with
its task (and its compiled kernels). A generation's genomes are cut into batches sized to carry
tens of milliseconds of work, at most two calls are in flight per actor, and results are
collected with `ray.wait` as they finish. Because a genome's rewards depend only on (genome,
task, shared weight, seed), the batch a genome sits in and the actor that runs it change nothing:
the Ray executor returns bit-for-bit the numbers of `SerialExecutor`.

Faults: when a call fails because its actor died (a crash, `ray.kill`, a lost node), the batch
goes back in the queue and the actor is replaced by a fresh one; no finished batch is lost. If no
batch finishes for `stall_timeout` seconds (e.g. no CPU is left for a replacement actor), the
executor raises `WannError` with what to check, instead of hanging.

Attaching: no address starts a local Ray (``address="local"``, no dashboard) and shuts it down on
close; ``address`` or ``RAY_ADDRESS`` attaches to a running cluster (token authentication needs
``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH``).
"""

from __future__ import annotations

import math
import os
import socket
import sys
import time
import warnings
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import ray
from ray.exceptions import GetTimeoutError, RayActorError

from wann.errors import ConfigError, WannError
from wann.evaluate import Evaluation, evaluate, evaluate_weights
from wann.tasks import task_from_spec

try:  # Ray >= 2.x
    from ray.exceptions import ActorUnavailableError
except ImportError:  # pragma: no cover
    ActorUnavailableError = RayActorError

ACTOR_ERRORS = (RayActorError, ActorUnavailableError)
MAX_CALL_S = 2.0  # longest call (seconds of work) before batches are split further
IN_FLIGHT_PER_ACTOR = 2


def _rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


@ray.remote(num_cpus=1)
class Evaluator:
    """One evaluation worker: builds its task once, then scores batches of genomes."""

    def __init__(self, task_spec: dict[str, Any]):
        self.task = task_from_spec(task_spec)
        self._crash_next = False
        # compile the kernels now, not inside the first timed call
        from wann.genome import Genome

        g = Genome.initial(self.task.n_inputs, self.task.n_outputs, np.random.default_rng(0), 1.0)
        evaluate(self.task, [g], [1.0], [0])

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(), "rss_mb": _rss_mb()}

    def arm_crash(self) -> None:
        """Testing hook: the next `evaluate` call kills this process (a crash inside a call)."""
        self._crash_next = True

    def evaluate_weights(self, batch_id: int, genome, weight_rows, seeds) -> dict[str, Any]:
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


def _check_reachable(address: str) -> None:
    """Fail fast, with our own message, when a host:port address does not answer."""
    if address in ("auto", "local") or "://" in address and not address.startswith("ray://"):
        return
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError("--address", f"{address!r} is not HOST:PORT (e.g. 127.0.0.1:6379)")
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    except OSError as e:
        raise ConfigError(
            "--address",
            f"cannot reach a Ray cluster at {address} ({e.strerror or e}); start one with "
            "`ray start --head`, fix the address, or drop --address (and unset RAY_ADDRESS) to run locally",
        ) from None


def _tighten_token_file() -> None:
    """Ray writes ~/.ray/auth_token world-readable; the token is a root credential for the cluster."""
    path = os.path.expanduser("~/.ray/auth_token")
    try:
        if os.path.exists(path) and os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Make sure Ray is initialised. Returns True when this call started a local Ray (which the
    caller then owns and shuts down)."""
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address is None:
        ray.init(
            address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False
        )
        _tighten_token_file()
        return True
    _check_reachable(address)
    try:
        ray.init(address=address, log_to_driver=True, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        has_token = bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"))
        hint = (
            "the token in RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH was refused: check it matches the cluster's"
            if has_token
            else "if the cluster uses token authentication (Ray 2.60 default), set RAY_AUTH_MODE=token and "
            "RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) to the cluster's token"
        )
        raise WannError(f"could not attach to the Ray cluster at {address}: {hint} ({type(e).__name__}: {e})") from None
    return False


class RayExecutor:
    """Evaluate on `workers` Ray actors (0 = one per CPU of the cluster).

    task_spec: {"name": ..., **options}. address: a cluster to attach to (default RAY_ADDRESS,
    else a local Ray started here). stall_timeout: seconds without any finished batch before
    giving up with an error."""

    def __init__(
        self,
        task_spec: dict[str, Any],
        workers: int = 0,
        address: str | None = None,
        stall_timeout: float = 120.0,
        num_cpus: int | None = None,
    ):
        if workers < 0:
            raise ConfigError("--workers", f"must be >= 0, got {workers}")
        self.task = task_from_spec(task_spec)  # bad task: fail here, before any actor starts
        self.task_spec = dict(task_spec)
        self.stall_timeout = stall_timeout
        self._owns_ray = connect(address, num_cpus)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            raise WannError("the Ray cluster reports no CPUs; start workers with --num-cpus >= 1")
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
        try:
            infos = ray.get([a.info.remote() for a in self.actors], timeout=max(60.0, stall_timeout))
        except GetTimeoutError:
            self.close()
            raise WannError(
                f"{workers} evaluator actors did not start within {max(60.0, stall_timeout):.0f} s; "
                "are there free CPUs in the cluster (ray status)?"
            ) from None
        self.nodes = {i["node"] for i in infos}

    def _new_actor(self):
        return Evaluator.options(scheduling_strategy="SPREAD").remote(self.task_spec)

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
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
            if not ready:
                if time.perf_counter() - last_progress > self.stall_timeout:
                    raise WannError(
                        f"no evaluator finished a batch for {self.stall_timeout:.0f} s ({len(in_flight)} calls "
                        f"waiting, {self.restarts} actors replaced so far). Workers may have died with no CPU "
                        "left to restart them: check `ray status`, free CPUs or lower --workers; finished "
                        "generations are in the checkpoint (--resume)"
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
            self._owns_ray = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def scaling_benchmark(progress=print, quick: bool = False, generations: int | None = None) -> dict[str, float]:
    """Wall time of one swing-up generation (192 genomes x 6 weights x 3 rollouts) serial, on Ray
    with 1 worker and with 2 workers (median over several generations, same genomes)."""
    from wann.bench import WEIGHTS, late_search_population
    from wann.executor import SerialExecutor

    reps = generations or (3 if quick else 7)
    pop = late_search_population()
    spec = {"name": "wann/CartPoleSwingUp-v0"}
    seeds_for = [[1000 * k + r for r in range(3)] for k in range(reps + 1)]

    def timed(ex) -> float:
        ex.evaluate(pop, WEIGHTS, seeds_for[-1])  # warm-up (compilation, batch sizing)
        times = []
        for k in range(reps):
            t0 = time.perf_counter()
            ex.evaluate(pop, WEIGHTS, seeds_for[k])
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    progress("bench: scaling, serial ...")
    serial = timed(SerialExecutor(spec))
    out = {"serial_s": serial}
    started = connect(None, num_cpus=2) if not ray.is_initialized() else False
    try:
        for n in (1, 2):
            progress(f"bench: scaling, Ray with {n} worker(s) ...")
            ex = RayExecutor(spec, workers=n)
            try:
                out[f"ray{n}_s"] = timed(ex)
            finally:
                ex.close()
    finally:
        if started:
            ray.shutdown()
    out["ray1_over_serial"] = out["ray1_s"] / serial
    out["ray2_over_serial"] = out["ray2_s"] / serial
    out["genomes"] = len(pop)
    return out
