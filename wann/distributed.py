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
``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH``). An explicit address is
probed first (TCP, then an HTTP/2 preface that a Ray GCS answers), so a wrong port fails in seconds.

A local Ray is private to this machine: node IP 127.0.0.1, which makes every Ray server (GCS,
raylet, object manager, workers, agents, metrics exporters) listen on loopback only, and every port
ephemeral (Ray's fixed defaults for the dashboard agent and the two metrics servers are replaced
by port 0), so concurrent runs never collide. Its token file (``~/.ray/auth_token``) is created
0600 before Ray starts. A small watchdog process kills what is left of the session within ~2 s
when the driver dies (Ray's agents otherwise linger ~60 s). Ray's own log output stays in the
session folder (``<session>/logs``, named in every Ray error message); ``WANN_RAY_VERBOSE=1``
restores Ray's terminal output. While waiting on evaluators, the executor checks that the raylet
(and, for a local Ray, the GCS) are alive, so a dead node is named within seconds.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import psutil
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
HEALTH_EVERY_S = 1.0  # how often a waiting executor checks that the Ray node is alive
PROBE_TIMEOUT_S = 3.0  # TCP connect / HTTP/2 answer of an explicit --address


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


# ---- attaching: fail fast on a wrong address ---------------------------------------------------
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # + empty SETTINGS


def _split_address(address: str) -> tuple[str, int] | None:
    """(host, port) of a HOST:PORT or ray://HOST:PORT address; None for the forms Ray resolves
    itself ("auto", "local", other URL schemes)."""
    if address in ("auto", "local") or "://" in address and not address.startswith("ray://"):
        return None
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError("--address", f"{address!r} is not HOST:PORT (e.g. 127.0.0.1:6379)")
    return host.strip("[]"), int(port)


def _check_reachable(address: str) -> None:
    """Fail fast, with our own message, when a host:port address does not answer."""
    hp = _split_address(address)
    if hp is None:
        return
    try:
        with socket.create_connection(hp, timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as e:
        raise ConfigError(
            "--address",
            f"cannot reach a Ray cluster at {address} ({e.strerror or e}); start one with "
            "`ray start --head`, fix the address, or drop --address (and unset RAY_ADDRESS) to run locally",
        ) from None


def _speaks_http2(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when host:port answers an HTTP/2 client preface with a SETTINGS frame, as every gRPC
    server (a Ray GCS, a Ray client server) does at once; a plain HTTP server, the dashboard or a
    silent listener does not."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(_H2_PREFACE)
            head = b""
            while len(head) < 9:
                s.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = s.recv(9 - len(head))
                if not chunk:
                    break
                head += chunk
    except OSError:  # includes the timeout
        return False
    return len(head) == 9 and head[3] == 0x04 and head[8] & 0x7F == 0 and head[5:8] == b"\0\0\0"


def _check_speaks_ray(address: str) -> None:
    hp = _split_address(address)
    if hp is None or os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
        return  # a TLS port answers the preface with a TLS alert: let Ray itself judge it
    if not _speaks_http2(*hp):
        raise ConfigError(
            "--address",
            f"{address} accepts connections but is not a Ray cluster (it gave no gRPC answer within "
            f"{PROBE_TIMEOUT_S:.0f} s). Give the head's GCS port (`ray start --head --port`, 6379 by "
            "default), not the dashboard (8265) or another service",
        )


# ---- a private local Ray ------------------------------------------------------------------------
def _token_path() -> str:
    return os.path.join(os.path.expanduser("~"), ".ray", "auth_token")


def _tighten_token_file(path: str | None = None) -> None:
    """Ray writes ~/.ray/auth_token world-readable; the token is a root credential for the cluster."""
    path = path or _token_path()
    try:
        if os.path.exists(path) and os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass


def _ensure_private_token() -> str | None:
    """Before a local Ray starts: make sure the token Ray will use is a file only we can read.
    Creates ~/.ray/auth_token 0600 (O_EXCL, 256 random bits as hex, Ray's own format) when token
    authentication is on and no token is configured; tightens an existing one. Returns its path."""
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "disabled":
        return None
    if os.environ.get("RAY_AUTH_TOKEN"):
        return None
    if os.environ.get("RAY_AUTH_TOKEN_PATH"):
        _tighten_token_file(os.environ["RAY_AUTH_TOKEN_PATH"])
        return os.environ["RAY_AUTH_TOKEN_PATH"]
    path = _token_path()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _tighten_token_file(path)
        return path
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    return path


@contextlib.contextmanager
def _loopback_start():
    """While `ray.init` starts a local Ray: node IP 127.0.0.1 (Ray's C++ servers then bind
    loopback only; on Linux ray.init would otherwise pick the outward IP and bind all interfaces)
    and port 0 for the dashboard agent's HTTP server and the autoscaler / dashboard metrics
    servers, whose defaults (52365, 44217, 44227) are fixed numbers that concurrent runs fight over.
    ray.init exposes neither, so its RayParams is wrapped for the duration of the call."""
    import ray._private.parameter as parameter

    original = parameter.RayParams

    class LoopbackRayParams(original):
        def __init__(self, *args, **kwargs):
            if not kwargs.get("node_ip_address"):
                kwargs["node_ip_address"] = "127.0.0.1"
            kwargs.setdefault("dashboard_agent_listen_port", 0)
            super().__init__(*args, **kwargs)

    env = {"AUTOSCALER_METRIC_PORT": "0", "DASHBOARD_METRIC_PORT": "0"}
    saved = {k: os.environ.get(k) for k in env}
    for k, v in env.items():
        os.environ.setdefault(k, v)
    parameter.RayParams = LoopbackRayParams
    try:
        yield
    finally:
        parameter.RayParams = original
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)


# The watchdog: a tiny separate process (stdlib + psutil, no Ray import) that learns the Ray
# processes of one session (descendants of the driver whose command line names the session
# folder, and their descendants) and kills what is left of them once the driver is gone or the
# session's GCS has exited. Without it, Ray's agents keep listening ~60 s after a SIGKILLed driver
# (they block on a 60 s call to the dead GCS before exiting).
_WATCHDOG_SRC = r"""
import os, select, signal, sys, time
import psutil
driver, marker, gcs = psutil.Process(int(sys.argv[1])), sys.argv[2], int(sys.argv[3])
me, known = os.getpid(), {}
def alive(p):
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
def scan():
    try:
        kids = [p for p in driver.children(recursive=True) if p.pid != me]
    except psutil.Error:
        return
    info = {}
    for p in kids:
        try:
            info[p.pid] = (p, p.ppid(), " ".join(p.cmdline()))
        except psutil.Error:
            pass
    inside = {pid for pid, (_, _, cl) in info.items() if marker in cl} | set(known)
    grew = True
    while grew:
        more = {pid for pid, (_, ppid, _) in info.items() if ppid in inside and pid not in inside}
        inside |= more
        grew = bool(more)
    for pid in inside:
        if pid in info and pid not in known:
            known[pid] = info[pid][0]
gcs_proc = psutil.Process(gcs) if psutil.pid_exists(gcs) else None
start = next_scan = time.monotonic()
while True:
    now = time.monotonic()
    if now >= next_scan:  # often while the session starts up, then every 2 s (~0.3% of a core)
        scan()
        next_scan = now + (0.5 if now - start < 15 else 2.0)
    r, _, _ = select.select([sys.stdin], [], [], 0.5)
    if r and not os.read(sys.stdin.fileno(), 1024):
        break
    if not alive(driver):
        break
    if gcs_proc is None or not alive(gcs_proc):
        time.sleep(2.0)  # an orderly ray.shutdown(): let Ray finish on its own first
        break
left = [p for p in known.values() if alive(p)]
for p in left:
    try:
        p.send_signal(signal.SIGTERM)
    except psutil.Error:
        pass
gone, left = psutil.wait_procs(left, timeout=1.0)
for p in left:
    try:
        p.kill()
    except psutil.Error:
        pass
"""

_watchdog: subprocess.Popen | None = None
_ray_logger_handler: logging.Handler | None = None


def _stop_watchdog() -> None:
    """Tell the watchdog of an earlier session to clean up now (it exits after)."""
    global _watchdog
    if _watchdog is not None:
        with contextlib.suppress(OSError, ValueError):
            _watchdog.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            _watchdog.wait(timeout=5)
        _watchdog = None


def _start_watchdog() -> None:
    global _watchdog
    _stop_watchdog()
    node = ray._private.worker._global_node
    try:
        gcs = node.all_processes["gcs_server"][0].process.pid
        session = node.get_session_dir_path()
    except (AttributeError, KeyError, IndexError):
        return
    try:
        _watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG_SRC, str(os.getpid()), session, str(gcs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or killpg of the driver's group must not stop it
            close_fds=True,
        )
    except OSError:  # best effort: without it Ray's own (slower) cleanup still happens
        _watchdog = None


def _verbose() -> bool:
    return os.environ.get("WANN_RAY_VERBOSE", "") not in ("", "0")


def _quiet_ray_before_init() -> None:
    """Ray's driver-side Python logging (e.g. the token notice) off the terminal during start-up;
    errors still show."""
    if not _verbose():
        logging.getLogger("ray").setLevel(logging.ERROR)


def _quiet_ray_after_init() -> None:
    """Once the session folder exists: the driver's Ray log records go to
    <session>/logs/wann_driver.log instead of the terminal, and the error messages Ray pushes to
    drivers (e.g. a dead raylet's last 20 log lines) are not printed: they are in the session's
    logs, and wann reports the failure itself in one line."""
    global _ray_logger_handler
    if _verbose():
        return
    ray._private.worker._worker_logs_enabled = False
    logs = session_logs_dir()
    lg = logging.getLogger("ray")
    if _ray_logger_handler is not None:
        lg.removeHandler(_ray_logger_handler)
        _ray_logger_handler.close()
        _ray_logger_handler = None
    if logs:
        try:
            _ray_logger_handler = logging.FileHandler(os.path.join(logs, "wann_driver.log"))
        except OSError:
            return
        _ray_logger_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        lg.addHandler(_ray_logger_handler)
        lg.propagate = False
        lg.setLevel(logging.INFO)


@contextlib.contextmanager
def _stderr_captured():
    """Point file descriptor 2 at a private temporary file while Ray's C++ client tries to attach
    (it prints one warning a second to stderr while a cluster refuses it). Yields the file's path."""
    if _verbose():
        yield None
        return
    fd, path = tempfile.mkstemp(prefix="wann-ray-attach-", suffix=".log")
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _last_ray_message(path: str | None) -> str | None:
    """The text of the last line Ray's C++ code logged to `path` (its `[time L pid tid] file:line:`
    prefix removed)."""
    if not path:
        return None
    try:
        with open(path, errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return None
    for ln in reversed(lines):
        m = re.match(r"^\[[^\]]*\] \S+: (.*)$", ln)
        if m:
            return m.group(1)
    return lines[-1] if lines else None


def session_logs_dir() -> str | None:
    """The logs folder of the Ray session this driver is connected to (None without one)."""
    try:
        return ray._private.worker._global_node.get_logs_dir_path()
    except AttributeError:
        return None


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Make sure Ray is initialised. Returns True when this call started a local Ray (which the
    caller then owns and shuts down)."""
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    _quiet_ray_before_init()
    if address is None:
        _ensure_private_token()
        with _loopback_start():
            ray.init(
                address="local",
                num_cpus=num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        _tighten_token_file()
        _start_watchdog()
        _quiet_ray_after_init()
        return True
    _check_reachable(address)
    _check_speaks_ray(address)
    captured = None
    try:
        with _stderr_captured() as captured:
            ray.init(address=address, log_to_driver=_verbose(), configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        has_token = bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"))
        hint = (
            "the token in RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH was refused: check it matches the cluster's"
            if has_token
            else "if the cluster uses token authentication (Ray 2.60 default), set RAY_AUTH_MODE=token and "
            "RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) to the cluster's token"
        )
        said = _last_ray_message(captured)
        said = f"; Ray said: {said} (all of it in {captured})" if said else ""
        raise WannError(
            f"could not attach to the Ray cluster at {address}: {hint} ({type(e).__name__}: {e}{said})"
        ) from None
    if captured:  # attached: what Ray printed on the way is of no interest
        with contextlib.suppress(OSError):
            os.unlink(captured)
    _quiet_ray_after_init()
    return False


class _NodeWatch:
    """Cheap liveness checks of the Ray processes this driver depends on: the raylet of its node
    (a child process for a local Ray; found by its socket for an attached cluster) and, for a
    local Ray, the GCS. `problem()` names the first one gone, else None."""

    def __init__(self):
        self.procs: list[tuple[str, Any]] = []
        node = getattr(ray._private.worker, "_global_node", None)
        if node is None:
            return
        self.logs = session_logs_dir()
        own = getattr(node, "all_processes", None) or {}
        for kind in ("raylet", "gcs_server"):
            try:
                self.procs.append((kind, own[kind][0].process))  # subprocess.Popen: poll() also reaps
            except (KeyError, IndexError, AttributeError):
                pass
        if not any(k == "raylet" for k, _ in self.procs):
            sock = getattr(node, "raylet_socket_name", None)
            if sock:
                for p in psutil.process_iter(["name", "cmdline"]):
                    try:
                        if p.info["name"] == "raylet" and f"--raylet_socket_name={sock}" in (p.info["cmdline"] or []):
                            self.procs.append(("raylet", p))
                            break
                    except psutil.Error:
                        continue

    def problem(self) -> str | None:
        for kind, p in self.procs:
            if isinstance(p, subprocess.Popen):
                rc = p.poll()
                if rc is None:
                    continue
                sig = -rc if rc < 0 and -rc in signal.valid_signals() else 0
                how = f"killed by {signal.Signals(sig).name}" if sig else f"exit {rc}"
            else:
                try:
                    if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                        continue
                except psutil.Error:
                    pass
                how = "gone"
            what = "the Ray node died" if kind == "raylet" else "the Ray head's GCS died"
            return f"{what} ({kind} pid {p.pid} {how}); logs: {self.logs}"
        return None


def check_ray_alive() -> None:
    """Raise WannError naming the dead process when this driver's raylet (or its local GCS) is
    gone. For wait loops outside the executor (e.g. a cell scheduler)."""
    msg = _NodeWatch().problem()
    if msg:
        raise WannError(msg)


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
                f"an evaluator actor died while starting ({type(e).__name__}); logs: {session_logs_dir()}"
            ) from None
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
            _stop_watchdog()
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
