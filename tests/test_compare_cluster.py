"""`wann compare` on a multi-node Ray cluster (slow, opt-in: WANN_SLOW=1): cells spread over the
nodes, and a node lost mid-study loses no finished cell. Runs in its own process, since the rest
of the suite shares one in-process local Ray."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STUDY = """
[study]
name = "cluster"
seeds = [0, 1, 2]
methods = ["dense", "small_dense", "random_sparse", "wann_best_shared"]
sizes = [0.5, 1.0]
test_episodes = 5
landscape_episodes = 1

[[tasks]]
label = "cartpole"
champion = "{champion}"
budget = 2048
dense = [[16]]
"""

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    import ray
    from ray.cluster_utils import Cluster
    from wann.study.scheduler import run_study
    from wann.study.spec import load_study

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    study = load_study(sys.argv[1])
    # lose a worker node while cells run: its cell is retried elsewhere, finished cells stay
    removed = []

    def remove():
        cluster.remove_node(workers[1], allow_graceful=False)
        removed.append(time.time())

    t = threading.Timer(3.0, remove)
    t.start()
    t0 = time.time()
    res = run_study(study, executor="ray", progress=False)
    seconds = time.time() - t0
    t.join()
    t_end = t0 + seconds
    for _ in range(60):  # the GCS notices a lost node after its heartbeat timeout
        alive = sum(1 for n in ray.nodes() if n["Alive"])
        if alive == 2:
            break
        time.sleep(0.5)
    out = {"done": res.done, "failed": list(res.failed), "skipped": res.skipped, "seconds": seconds, "alive": alive,
           "removed_before_end": bool(removed) and removed[0] < t_end}
    ray.shutdown()
    cluster.shutdown()
    print("RESULT " + json.dumps(out))
    """
)


def test_cells_spread_over_nodes_and_node_loss_loses_nothing(tmp_path):
    champion = Path(__file__).resolve().parents[1] / "experiments/results/cartpole/champion.json"
    study = tmp_path / "study.toml"
    study.write_text(STUDY.format(champion=champion))
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(study)], capture_output=True, text=True, timeout=600, env=env)
    line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, r.stdout[-3000:] + r.stderr[-3000:]
    out = json.loads(line[len("RESULT ") :])
    cells = [json.loads(p.read_text()) for p in (tmp_path / "cluster-results/cells").glob("*.json")]
    assert out["failed"] == [] and out["skipped"] == []
    assert out["done"] == len(cells) == 3 * (1 + 1 + 2 + 2)
    assert out["alive"] == 2 and out["removed_before_end"], out  # the node was lost while cells ran
    nodes = {c["worker"]["node"] for c in cells}
    assert len(nodes) >= 2, nodes  # cells ran in parallel on more than one node
