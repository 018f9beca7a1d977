"""Safety of a local Ray and fast, one-line Ray failures.

- a local Ray (wann's connect()) listens on loopback only, on ephemeral ports (two at once do not
  collide), with a 0600 token file, and leaves no process behind a SIGKILLed driver;
- an --address that is not Ray, and a raylet that dies mid-run, are each named in one line within
  seconds.

The Ray tests start their own Rays in subprocesses (never the session fixture's), each with its own
RAY_TMPDIR and HOME, and stop them by PID.
"""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from wann.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "experiments" / "swingup-smoke.toml")
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")

# A driver: start a local Ray through wann, run one task, report every LISTEN socket of itself and
# its descendants, then wait to be SIGKILLed ("kill") or told to shut down ("stdin").
DRIVER = r"""
import json, os, sys, time
import psutil
import ray
from wann.distributed import connect, session_logs_dir

connect(None, num_cpus=1)

@ray.remote
def pid():
    return os.getpid()

ray.get(pid.remote())
time.sleep(1.5)  # the agents bind their HTTP / metrics servers a moment after start-up
me = psutil.Process()
procs = {}
for p in [me] + me.children(recursive=True):
    try:
        listen = [[c.laddr.ip, c.laddr.port] for c in p.net_connections("inet") if c.status == psutil.CONN_LISTEN]
        procs[p.pid] = {"name": p.name(), "cmd": " ".join(p.cmdline())[:200], "listen": listen}
    except psutil.Error:
        pass
token = os.path.expanduser("~/.ray/auth_token")
print(json.dumps({"procs": procs, "logs": session_logs_dir(), "token_mode": os.stat(token).st_mode & 0o777,
                  "token": open(token).read()}), flush=True)
if sys.argv[1] == "kill":
    time.sleep(600)
else:
    sys.stdin.readline()
    ray.shutdown()
"""


def _clean_env(home: str, tmp: str) -> dict:
    env = {**os.environ, "HOME": home, "RAY_TMPDIR": tmp, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"}
    for k in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "WANN_RAY_VERBOSE"):
        env.pop(k, None)
    return env


@pytest.fixture
def scratch():
    """Short-path scratch folders (Ray's unix sockets must fit in 107 bytes): a HOME and a RAY_TMPDIR."""
    made = [tempfile.mkdtemp(prefix="wrs", dir="/tmp") for _ in range(4)]
    yield made
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(procs: list[psutil.Process], within: float) -> list[psutil.Process]:
    deadline = time.monotonic() + within
    left = procs
    while left and time.monotonic() < deadline:
        left = [p for p in left if _alive(p)]
        time.sleep(0.1)
    return left


def _kill_all(procs) -> None:
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass


# ---- no Ray needed -----------------------------------------------------------------------------
def test_token_file_is_created_0600_and_existing_ones_are_tightened(tmp_path, monkeypatch):
    from wann.distributed.cluster import _ensure_private_token

    for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    path = Path(_ensure_private_token())
    assert path == tmp_path / ".ray" / "auth_token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text()
    assert len(token) == 64 and int(token, 16) >= 0  # Ray's own format: secrets.token_hex(32)
    assert _ensure_private_token() == str(path) and path.read_text() == token  # never overwritten
    path.chmod(0o644)
    _ensure_private_token()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == token

    monkeypatch.setenv("HOME", str(tmp_path / "other"))
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert _ensure_private_token() is None and not (tmp_path / "other" / ".ray").exists()


def test_address_forms_and_ray_log_lines():
    from wann.distributed.cluster import _last_ray_message, _split_address

    assert _split_address("127.0.0.1:6379") == ("127.0.0.1", 6379)
    assert _split_address("ray://head:10001") == ("head", 10001)
    assert _split_address("[::1]:6379") == ("::1", 6379)
    assert _split_address("auto") is None and _split_address("http://x:8265") is None
    with pytest.raises(ConfigError, match="is not HOST:PORT"):
        _split_address("head")
    assert _last_ray_message(None) is None


@pytest.fixture
def non_ray_listeners():
    """A plain HTTP server and a listener that accepts and never answers, both on loopback."""

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    yield {"http": http.server_address[1], "silent": silent.getsockname()[1]}
    stop.set()
    http.shutdown()
    http.server_close()
    for c in held:
        c.close()
    silent.close()


def test_http2_probe_rejects_non_ray_listeners(non_ray_listeners):
    from wann.distributed.cluster import _speaks_http2

    for port in non_ray_listeners.values():
        t0 = time.monotonic()
        assert not _speaks_http2("127.0.0.1", port, timeout=2.0)
        assert time.monotonic() - t0 < 4


@pytest.mark.parametrize("kind", ["http", "silent"])
def test_address_at_a_non_ray_listener_fails_in_one_line(non_ray_listeners, kind, tmp_path):
    port = non_ray_listeners[kind]
    env = {**os.environ}
    env.pop("RAY_ADDRESS", None)
    cmd = [
        sys.executable,
        "-m",
        "wann.cli",
        "search",
        SMOKE,
        "--out",
        str(tmp_path / "o"),
        "--executor",
        "ray",
        "--address",
        f"127.0.0.1:{port}",
    ]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    took = time.monotonic() - t0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"127.0.0.1:{port} accepts connections but is not a Ray cluster" in lines[0]
    assert took < 10, took
    assert not (tmp_path / "o" / "checkpoint.json").exists()


# ---- with Ray (own Rays in subprocesses) ----------------------------------------------------------
@pytest.mark.ray
def test_local_ray_is_private_concurrent_and_dies_with_its_driver(scratch):
    """Two local Rays started at once through wann: every LISTEN socket of every process of each
    session (driver, GCS, raylet, agents, metrics servers, workers) is on loopback; each session
    has all its listeners (no fixed port lost to the other); a fresh HOME gets a 0600 token that
    Ray then uses; a SIGKILLed driver's session is gone within seconds, and so is a shut-down one."""
    home_a, tmp_a, home_b, tmp_b = scratch
    run = [sys.executable, "-c", DRIVER]
    a = subprocess.Popen(
        run + ["kill"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(home_a, tmp_a),
        cwd=ROOT,
    )
    b = subprocess.Popen(
        run + ["stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(home_b, tmp_b),
        cwd=ROOT,
    )
    everything: list[psutil.Process] = []
    try:
        reports = {}
        for name, p in (("a", a), ("b", b)):
            line = p.stdout.readline()
            assert line.startswith("{"), (line, p.poll(), p.stderr.read() if p.poll() is not None else "")
            reports[name] = json.loads(line)
            procs = [psutil.Process(int(pid)) for pid in reports[name]["procs"]]
            everything += procs
            reports[name]["ps"] = procs
        for name, rep in reports.items():
            listen = [(info["name"], ip, port) for info in rep["procs"].values() for ip, port in info["listen"]]
            names = {n for n, _, _ in listen}
            assert {"gcs_server", "raylet", "ray::DashboardAgent", "ray::RuntimeEnvAgent"} <= names, listen
            outside = [x for x in listen if x[1] not in LOOPBACK]
            assert not outside, f"session {name} listens beyond loopback: {outside}"
            agent = [x for x in listen if x[0] == "ray::DashboardAgent"]
            assert len(agent) == 3, f"dashboard agent lost a listener (grpc, http, metrics): {agent}"
            metrics = [
                (ip, port)
                for info in rep["procs"].values()
                for ip, port in info["listen"]
                if "autoscaler/_private/monitor.py" in info["cmd"] or "dashboard/dashboard.py" in info["cmd"]
            ]
            assert len(metrics) == 2, f"autoscaler / dashboard metrics server missing: {listen}"
            assert rep["token_mode"] == 0o600 and len(rep["token"]) == 64
            assert rep["logs"] and rep["logs"].startswith((tmp_a, tmp_b))
        ports = [{port for info in rep["procs"].values() for _, port in info["listen"]} for rep in reports.values()]
        assert not ports[0] & ports[1]
        assert (Path(home_a) / ".ray" / "auth_token").read_text() == reports["a"]["token"]

        # SIGKILL driver a (only it: its Ray must go by itself)
        a.kill()
        a.wait(timeout=30)
        t0 = time.monotonic()
        left = _wait_gone([p for p in reports["a"]["ps"] if p.pid != a.pid], within=15)
        assert not left, f"alive {time.monotonic() - t0:.1f} s after the driver was killed: {left}"
        assert time.monotonic() - t0 < 8

        # driver b shuts down normally: nothing of it stays either
        b.stdin.write("\n")
        b.stdin.flush()
        assert b.wait(timeout=60) == 0
        left = _wait_gone(reports["b"]["ps"], within=15)
        assert not left, left
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait()
        _kill_all([p for p in everything if _alive(p)])


@pytest.mark.ray
def test_node_watch_sees_a_healthy_session(ray_session):
    from wann.distributed.cluster import _NodeWatch, check_ray_alive

    w = _NodeWatch()
    assert {k for k, _ in w.procs} >= {"raylet"}
    assert w.problem() is None
    check_ray_alive()


@pytest.mark.ray
@pytest.mark.slow
def test_killed_raylet_is_named_in_one_line_within_seconds(scratch):
    """SIGKILL the raylet of a running `wann search` (local Ray): the run stops with one line that
    names the dead raylet and the session's logs, within seconds, and leaves no Ray process."""
    home, tmp = scratch[:2]
    out = Path(tmp) / "run"
    cmd = [
        sys.executable,
        "-m",
        "wann.cli",
        "search",
        SMOKE,
        "--out",
        str(out),
        "--quiet",
        "--executor",
        "ray",
        "--workers",
        "1",
    ]
    p = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_clean_env(home, tmp), cwd=ROOT
    )
    procs: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and p.poll() is None and not (out / "checkpoint.json").exists():
            time.sleep(0.1)
        assert p.poll() is None, p.communicate()
        procs = psutil.Process(p.pid).children(recursive=True)
        raylet = next(c for c in procs if c.name() == "raylet")
        t0 = time.monotonic()
        raylet.send_signal(signal.SIGKILL)
        _, err = p.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("wann search: swingup-smoke on")]
    assert p.returncode == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"the Ray node died (raylet pid {raylet.pid} killed by SIGKILL); logs: {tmp}" in lines[0]
    assert took < 15, took
    left = _wait_gone(procs, within=10)
    _kill_all(left)
    assert not left, left
