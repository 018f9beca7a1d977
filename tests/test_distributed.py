"""Ray executor tests on one session-scoped local Ray (2 CPUs)."""

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from wann.bench import champion_sized
from wann.errors import ConfigError
from wann.executor import SerialExecutor
from wann.search.experiment import Experiment, SearchSettings
from wann.search.run import run_search

pytestmark = pytest.mark.ray
SPEC = {"name": "wann/CartPoleSwingUp-v0"}
W = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)


@pytest.fixture(scope="module")
def executor(ray_session):
    from wann.distributed import RayExecutor

    ex = RayExecutor(SPEC, workers=2, stall_timeout=60)
    yield ex
    ex.close()


def test_ray_matches_serial_bit_for_bit(executor, small_genomes):
    seeds = [7, 8, 9]
    a = SerialExecutor(SPEC).evaluate(small_genomes, W, seeds)
    b = executor.evaluate(small_genomes, W, seeds)
    assert np.array_equal(a.rewards, b.rewards) and np.array_equal(a.steps, b.steps)
    st = executor.stats()
    assert st["workers"] == 2 and st["batches"] >= 2 and st["evaluator_rss_mb_max"] > 0


def test_crash_inside_a_call_loses_nothing(executor, small_genomes):
    import ray

    seeds = [1, 2, 3]
    expected = SerialExecutor(SPEC).evaluate(small_genomes, W, seeds)
    before = executor.restarts
    ray.get(executor.actors[0].arm_crash.remote())
    got = executor.evaluate(small_genomes, W, seeds)
    assert executor.restarts == before + 1
    assert np.array_equal(expected.rewards, got.rewards)


def test_permanent_kill_mid_generation_loses_nothing(executor):
    import ray

    genomes = champion_sized(384, seed=4)  # ~0.2 s of work per actor: the kill lands mid-generation
    seeds = [4, 5, 6]
    expected = SerialExecutor(SPEC).evaluate(genomes, W, seeds)
    before = executor.restarts
    victim = executor.actors[1]
    timer = threading.Timer(0.05, lambda: ray.kill(victim, no_restart=True))
    timer.start()
    got = executor.evaluate(genomes, W, seeds)
    timer.join()
    assert executor.restarts >= before + 1
    assert np.array_equal(expected.rewards, got.rewards)


def test_search_on_ray_equals_serial(tmp_path, executor):
    exp = Experiment(name="r", seed=2, search=SearchSettings(population=32, generations=4))
    run_search(exp, tmp_path / "serial", executor=SerialExecutor(SPEC), progress=False)
    run_search(exp, tmp_path / "ray", executor=executor, progress=False)
    a = (tmp_path / "serial" / "checkpoint.json").read_text()
    b = (tmp_path / "ray" / "checkpoint.json").read_text()
    import json

    assert json.loads(a)["state"] == json.loads(b)["state"]
    header = (tmp_path / "ray" / "metrics.csv").read_text().splitlines()[0]
    for col in ("workers", "restarts", "compute_s", "dispatch_s", "driver_rss_mb", "evaluator_rss_mb_max"):
        assert col in header


def test_unreachable_address_is_a_clear_error():
    from wann.distributed.cluster import _check_reachable

    with pytest.raises(ConfigError, match="cannot reach a Ray cluster at 127.0.0.1:1"):
        _check_reachable("127.0.0.1:1")
    with pytest.raises(ConfigError, match="is not HOST:PORT"):
        _check_reachable("nonsense")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "wann.cli",
            "search",
            "experiments/swingup-smoke.toml",
            "--address",
            "127.0.0.1:1",
            "--out",
            "/tmp/wann-never",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "cannot reach a Ray cluster" in r.stderr


def test_killed_ray_driver_resumes_to_identical_end(tmp_path):
    """SIGKILL the `wann search` process (local Ray executor) mid-run, resume it, and compare with
    an uninterrupted serial run of the same experiment."""
    import json
    import os
    import signal

    exp = tmp_path / "e.toml"
    exp.write_text('name = "k"\nseed = 9\n[search]\npopulation = 48\ngenerations = 25\n')
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "WANN_CHECKPOINT_S": "0"}  # a checkpoint every generation
    env.pop("RAY_ADDRESS", None)
    cmd = [sys.executable, "-m", "wann.cli", "search", str(exp), "--quiet"]
    subprocess.run(
        cmd + ["--executor", "serial", "--out", str(tmp_path / "full")],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    p = subprocess.Popen(
        cmd + ["--workers", "1", "--out", str(tmp_path / "killed")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ck = tmp_path / "killed" / "checkpoint.json"
    deadline = time.time() + 180
    while time.time() < deadline and p.poll() is None:
        if ck.exists() and json.loads(ck.read_text())["state"]["generation"] >= 2:
            break
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)  # the driver and the local Ray it started
    p.wait()
    gen = json.loads(ck.read_text())["state"]["generation"]
    assert 2 <= gen < 25
    r = subprocess.run(
        cmd + ["--workers", "1", "--out", str(tmp_path / "killed"), "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    final = [json.loads((tmp_path / d / "checkpoint.json").read_text())["state"] for d in ("full", "killed")]
    assert final[0] == final[1]
    champs = [json.loads((tmp_path / d / "champion.json").read_text()) for d in ("full", "killed")]
    assert champs[0] == champs[1]
