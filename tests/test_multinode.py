"""Multi-node checks (slow, opt-in: WANN_SLOW=1). Each runs in its own process, since the rest of
the suite shares one in-process local Ray."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import json, os, threading, time
    import numpy as np
    import ray
    from ray.cluster_utils import Cluster
    from wann.bench import champion_sized
    from wann.distributed import RayExecutor
    from wann.executor import SerialExecutor

    SPEC = {"name": "wann/CartPoleSwingUp-v0"}
    W = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    out = {}
    genomes = champion_sized(192, seed=1)
    expected = SerialExecutor(SPEC).evaluate(genomes, W, [1, 2, 3])
    ex = RayExecutor(SPEC, workers=2, stall_timeout=90)
    got = ex.evaluate(genomes, W, [1, 2, 3])
    out["nodes_with_actors"] = len(ex.nodes)
    out["nodes_used"] = ex.stats()["nodes_used"]
    out["equal"] = bool(np.array_equal(expected.rewards, got.rewards))
    # lose a node mid-generation: its batches are re-run elsewhere, nothing finished is lost
    big = champion_sized(192, seed=2) * 48  # long enough (~10 s) that the lost node dies mid-evaluation
    expected2 = SerialExecutor(SPEC).evaluate(big, W, [4, 5, 6])
    victim = next(w for w in workers if w.node_id in ex.nodes)  # a worker node holding an evaluator
    t = threading.Timer(0.5, lambda: cluster.remove_node(victim, allow_graceful=False))
    t.start()
    t0 = time.time()
    got2 = ex.evaluate(big, W, [4, 5, 6])
    t.join()
    out["after_node_loss_equal"] = bool(np.array_equal(expected2.rewards, got2.rewards))
    out["restarts"] = ex.restarts
    out["seconds"] = time.time() - t0
    ex.close()
    ray.shutdown()
    cluster.shutdown()
    print("RESULT " + json.dumps(out))
    """
)


def _run(script: str, tmp_path) -> dict:
    """Run a cluster script in its own process (no RAY_ADDRESS) and return its RESULT line."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    cmd = [sys.executable, "-c", script]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert line, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads(line[0][7:])


def test_actors_spread_over_nodes_and_node_loss_loses_nothing(tmp_path):
    out = _run(SCRIPT, tmp_path)
    assert out["nodes_with_actors"] == 2 and out["nodes_used"] == 2
    assert out["equal"] and out["after_node_loss_equal"]
    assert out["restarts"] >= 1


ISLANDS_SCRIPT = textwrap.dedent(
    """
    import csv, json, sys
    from pathlib import Path
    import ray
    from ray.cluster_utils import Cluster
    from wann.distributed import RayIslands
    from wann.search.experiment import experiment_from_dict
    from wann.search.island_run import TIMING_COLUMNS
    from wann.search.reporters import Reporter
    from wann.search.run import run_search

    def outcome(path):
        with (path / "metrics.csv").open() as f:
            rows = [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in csv.DictReader(f)]
        return rows, json.loads((path / "champion.json").read_text())

    exp = experiment_from_dict({
        "name": "isl3", "seed": 5, "task": {"name": "wann/CartPoleSwingUp-v0"},
        "search": {"population": 36, "generations": 30, "tournament": 4, "rollouts": 2},
        "islands": {"count": 3, "migration_interval": 3, "migrants": 1, "topology": "ring"},
        "execution": {"executor": "serial"},
    })
    out = {}
    run_search(exp, Path("serial"), progress=False)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)

    class LoseANode(Reporter):
        # after generation 4: a spare node joins and an island's node is lost without warning
        def __init__(self, backend):
            self.backend, self.done = backend, False
        def generation(self, state, report):
            if "nodes_at_start" not in out:
                out["nodes_at_start"] = len(set(self.backend.nodes.values()))
            if report["generation"] >= 4 and not self.done:
                self.done = True
                cluster.add_node(num_cpus=1)
                cluster.remove_node(workers[1], allow_graceful=False)

    with RayIslands() as backend:
        run_search(exp, Path("ray"), executor=backend, progress=False, reporters=[LoseANode(backend)])
        out["restarts"] = backend.restarts
    out["equal"] = outcome(Path("ray")) == outcome(Path("serial"))
    ray.shutdown()
    cluster.shutdown()
    print("RESULT " + json.dumps(out))
    """
)


def test_islands_use_every_node_and_a_lost_node_changes_nothing(tmp_path):
    """Three islands on a 3-node cluster (one CPU each) sit on three nodes; losing one node mid-run
    (a spare joins) restarts its island from the last epoch and the run ends as the serial one."""
    out = _run(ISLANDS_SCRIPT, tmp_path)
    assert out["nodes_at_start"] == 3
    assert out["restarts"] >= 1 and out["equal"]
