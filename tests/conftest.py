import os
import tempfile

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.pop("RAY_ADDRESS", None)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("WANN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow check: run with WANN_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole test session (2 CPUs, no dashboard), started the way wann
    starts one: private (loopback only, random ports, token file 0600)."""
    ray = pytest.importorskip("ray")
    tmp = tempfile.mkdtemp(prefix="wr", dir="/tmp")
    os.environ["RAY_TMPDIR"] = tmp
    from wann.distributed import connect

    connect(None, num_cpus=2)
    yield ray
    ray.shutdown()


@pytest.fixture
def small_genomes():
    """A handful of varied genomes for the swing-up task."""
    import numpy as np

    from wann.genome import Genome
    from wann.search.variation import VariationSettings, mutate

    rng = np.random.default_rng(7)
    s = VariationSettings()
    out = []
    for k in range(12):
        g = Genome.initial(5, 1, rng, 0.5)
        for _ in range(k * 4):
            g = mutate(g, rng, s)
        out.append(g)
    return out
