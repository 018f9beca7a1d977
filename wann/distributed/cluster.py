"""Starting and attaching to Ray, safely: the only place wann calls `ray.init`.

`connect(address=None)`: no address (and no ``RAY_ADDRESS``) starts a private local Ray and
returns True (the caller owns it and shuts it down); an address attaches to a running cluster
(token authentication needs ``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN`` or
``RAY_AUTH_TOKEN_PATH``). An explicit address is probed first (TCP, then an HTTP/2 preface that a
Ray GCS answers), so a wrong port fails in seconds with one line.

A local Ray is private to this machine: node IP 127.0.0.1, which makes every Ray server (GCS,
raylet, object manager, workers, agents, metrics exporters) listen on loopback only, and every port
ephemeral (Ray's fixed defaults for the dashboard agent and the two metrics servers are replaced
by port 0), so concurrent runs never collide. Its token file (``~/.ray/auth_token``) is created
0600 before Ray starts. A watchdog process (`wann.distributed.watchdog`) kills what is left of the
session within ~2 s when the driver dies. Ray's own log output stays in the session folder
(``<session>/logs``, named in every Ray error message); ``WANN_RAY_VERBOSE=1`` restores Ray's
terminal output. `check_ray_alive` names a dead raylet (and, for a local Ray, GCS) in seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import psutil
import ray
from ray.exceptions import RayActorError

from wann.distributed.watchdog import start_watchdog
from wann.errors import ConfigError, WannError

try:  # Ray >= 2.x
    from ray.exceptions import ActorUnavailableError
except ImportError:  # pragma: no cover
    ActorUnavailableError = RayActorError


PROBE_TIMEOUT_S = 3.0  # TCP connect / HTTP/2 answer of an explicit --address
_ray_logger_handler: logging.Handler | None = None  # the driver log file handler of the ray loggers
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # + empty SETTINGS


def _split_address(address: str) -> tuple[str, int] | None:
    """(host, port) of a HOST:PORT or ray://HOST:PORT address; None for the forms Ray resolves
    itself ("auto", "local", other URL schemes)."""
    if address in ("auto", "local") or "://" in address and not address.startswith("ray://"):
        return None
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError("address", f"{address!r} is not HOST:PORT (e.g. 127.0.0.1:6379)")
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
            "address",
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
            "address",
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
    caller then owns and shuts down). A Python SIGTERM handler set before (the CLI's: stop as on
    Ctrl-C) is put back afterwards: ``ray.init`` installs its own, which dumps a stack and exits."""
    if ray.is_initialized():
        return False
    with _keep_sigterm_handler():
        return _connect(address, num_cpus)


@contextlib.contextmanager
def _keep_sigterm_handler():
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if main and callable(before):
            signal.signal(signal.SIGTERM, before)


def _connect(address: str | None, num_cpus: int | None) -> bool:
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
        start_watchdog()
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


def current_node() -> str:
    """The Ray node id this process runs on ('' outside Ray)."""
    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else ""


def disconnect() -> None:
    """Shut down this process's Ray connection (the local Ray too, when this process started it)."""
    if ray.is_initialized():
        ray.shutdown()
