"""`ray job submit` against a token-authenticated `ray start --head` on loopback (slow, opt-in:
WANN_SLOW=1). The cluster runs in its own processes, stopped by PID at the end."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def token_cluster(tmp_path):
    token = secrets.token_hex(16)
    gcs, dash = _free_port(), _free_port()
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
        "RAY_USAGE_STATS_ENABLED": "0",
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    env.pop("RAY_ADDRESS", None)
    temp = Path("/tmp") / f"wj{os.getpid()}"
    head = subprocess.Popen(
        [
            str(BIN / "ray"),
            "start",
            "--head",
            f"--port={gcs}",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={dash}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            f"--temp-dir={temp}",
            "--block",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", dash), timeout=1).close()
            break
        except OSError:
            time.sleep(1)
    time.sleep(3)
    yield {"token": token, "gcs": gcs, "dash": dash, "env": env}
    os.killpg(head.pid, signal.SIGTERM)
    head.wait(timeout=60)


def test_ray_job_submit_with_token(token_cluster, tmp_path):
    c = token_cluster
    out = tmp_path / "run"
    job = [
        str(BIN / "ray"),
        "job",
        "submit",
        "--address",
        f"http://127.0.0.1:{c['dash']}",
        "--working-dir",
        str(ROOT),
        "--",
        "wann",
        "search",
        "experiments/swingup-smoke.toml",
        "--generations",
        "3",
        "--out",
        str(out),
    ]
    r = subprocess.run(job, env=c["env"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "succeeded" in r.stdout + r.stderr
    ck = json.loads((out / "checkpoint.json").read_text())
    assert ck["state"]["generation"] == 3

    # the same submission without the token is refused
    bare = {k: v for k, v in c["env"].items() if k not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    bare["RAY_AUTH_TOKEN_PATH"] = str(tmp_path / "no-token")  # keep ~/.ray/auth_token out of it
    (tmp_path / "no-token").write_text("wrong-token")
    r = subprocess.run(job[:-1] + [str(tmp_path / "run2")], env=bare, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert not (tmp_path / "run2").exists()

    # attaching `wann search` without the token: our own message, naming what is missing
    bare.pop("RAY_AUTH_TOKEN_PATH")
    bare["HOME"] = str(tmp_path)  # no ~/.ray/auth_token either
    r = subprocess.run(
        [
            str(BIN / "wann"),
            "search",
            "experiments/swingup-smoke.toml",
            "--address",
            f"127.0.0.1:{c['gcs']}",
            "--out",
            str(tmp_path / "run3"),
        ],
        env=bare,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 2
    assert "RAY_AUTH_TOKEN" in r.stderr and "could not attach" in r.stderr
