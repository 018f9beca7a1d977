"""Ray executor tests that need the session Ray's CPUs free (no module-wide executor here)."""

import time

import pytest

from wann.bench import champion_sized
from wann.errors import WannError

pytestmark = pytest.mark.ray
SPEC = {"name": "wann/CartPoleSwingUp-v0"}
W = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)


def test_no_progress_fails_with_a_clear_message(ray_session):
    import ray

    from wann.distributed import RayExecutor

    @ray.remote(num_cpus=1)
    class Hog:
        def ping(self):
            return 1

    ex = RayExecutor(SPEC, workers=1, stall_timeout=4)
    hog_a = Hog.remote()
    ray.get(hog_a.ping.remote())
    ray.kill(ex.actors[0], no_restart=True)
    time.sleep(0.5)
    hog_b = Hog.remote()  # takes the CPU the dead evaluator freed
    ray.get(hog_b.ping.remote(), timeout=30)
    t0 = time.time()
    with pytest.raises(WannError, match="no evaluator finished a batch"):
        ex.evaluate(champion_sized(4), W, [1])
    assert time.time() - t0 < 30
    ex.close()
    ray.kill(hog_a)
    ray.kill(hog_b)


def test_more_workers_than_cpus_warns(ray_session):
    from wann.distributed import RayExecutor

    with pytest.warns(UserWarning, match="more than the cluster's 2 CPUs"):
        ex = RayExecutor(SPEC, workers=5)
    assert ex.n_workers == 2
    ex.close()
