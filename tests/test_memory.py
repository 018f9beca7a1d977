"""Memory stays flat over a 200-generation swing-up run on a local Ray with two evaluators
(slow, opt-in: WANN_SLOW=1). The figures come from the run's own metrics.csv."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_memory_flat_over_200_generations(tmp_path):
    env = {**os.environ}
    env.pop("RAY_ADDRESS", None)
    out = tmp_path / "run"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "wann.cli",
            "search",
            str(ROOT / "experiments/swingup.toml"),
            "--generations",
            "200",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ],
        check=True,
        env=env,
        capture_output=True,
        timeout=1200,
    )
    sys.path.insert(0, str(ROOT / "experiments"))
    from check_memory import check

    r = check(out, after=10, max_growth=0.10, max_total_mb=2048)
    assert r["max_growth"] <= 0.10, r
    assert r["process_tree_rss_mb_max"] < 2048, r
