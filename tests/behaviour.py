"""Behaviour fixtures: a short search on two tasks and a tiny study, reduced to the numbers that
must never change when the code is reshaped (same seed, same results).

    python tests/behaviour.py --write    # record tests/fixtures/behaviour.json (from main)
    python tests/behaviour.py            # compare this code with the recorded fixtures

`tests/test_behaviour.py` runs the comparison. Timing and memory columns are left out; everything
else (population, champion, every deterministic metrics column, every cell's scores, budgets and
structure) is compared exactly.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "behaviour.json"
ROOT = HERE.parent

SEARCHES = {
    "swingup": 'name = "b-swingup"\nseed = 11\n[task]\nname = "swingup"\nmax_steps = 150\n'
    "[search]\npopulation = 24\ngenerations = 4\nrollouts = 2\n",
    "digits": 'name = "b-digits"\nseed = 5\n[task]\nname = "digits"\nbatch_size = 200\n'
    "[search]\npopulation = 16\ngenerations = 3\nrollouts = 1\n",
}
#: metrics columns that depend on timing, memory or where the run executed
VOLATILE = {
    "gen_wall_s",
    "gen_cpu_s",
    "wall_s",
    "cpu_s",
    "compute_s",
    "dispatch_s",
    "driver_rss_mb",
    "process_tree_rss_mb",
    "evaluator_rss_mb_max",
    "evaluator_rss_mb",
    "workers",
    "restarts",
    "batches",
    "nodes_used",
}
STUDY = """
[study]
name = "behaviour"
seeds = [0]
methods = ["wann_best_shared", "wann_random_shared", "wann_tuned", "dense", "small_dense",
           "pruned_magnitude", "lottery_ticket", "random_sparse"]
sizes = [1.0]
test_episodes = 4
landscape_episodes = 0
out = "run"

[execution]
executor = "serial"

[[tasks]]
label = "cartpole"
search = "cp.toml"
budget = 256
dense = [[4]]

[[tasks]]
label = "wine"
champion = "{wine}"
budget = 64
epochs = 2
dense = [[6]]
"""
STUDY_SEARCH = 'name = "cp"\n[task]\nname = "CartPole-v1"\n[search]\npopulation = 16\ngenerations = 2\nrollouts = 1\n'
#: result-table columns that are timings
ROW_VOLATILE = {"cpu_s", "parent_cpu_s", "total_cpu_s", "search_cpu_s", "latency_us", "wall_s"}


def _clean(x):
    """JSON-stable numbers: NaN as the string 'nan', floats rounded to 12 significant digits (the
    CSV/JSON text round trip of the run folder is exact; this only guards float printing)."""
    if isinstance(x, float):
        return "nan" if math.isnan(x) else float(f"{x:.12g}")
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def record() -> dict:
    import csv

    from wann.cli import main

    out: dict = {"searches": {}, "study": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, text in SEARCHES.items():
            (tmp / f"{name}.toml").write_text(text)
            run = tmp / f"run-{name}"
            code = main(["search", str(tmp / f"{name}.toml"), "--executor", "serial", "--quiet", "--out", str(run)])
            assert code == 0, code
            state = json.loads((run / "checkpoint.json").read_text())["state"]
            pop = json.dumps(state.pop("population"), sort_keys=True).encode()
            state["population_sha256"] = hashlib.sha256(pop).hexdigest()
            champion = json.loads((run / "champion.json").read_text())
            with (run / "metrics.csv").open(newline="") as f:
                rows = [{k: v for k, v in r.items() if k not in VOLATILE} for r in csv.DictReader(f)]
            out["searches"][name] = {"state": state, "champion": champion, "metrics": rows}
        (tmp / "cp.toml").write_text(STUDY_SEARCH)
        wine = ROOT / "experiments" / "results" / "wine" / "champion.json"
        (tmp / "study.toml").write_text(STUDY.format(wine=wine))
        code = main(["compare", str(tmp / "study.toml"), "--quiet"])
        assert code == 0, code
        for f in sorted((tmp / "run" / "cells").glob("*.json")):
            doc = json.loads(f.read_text())
            rows = [{k: v for k, v in r.items() if k not in ROW_VOLATILE} for r in doc["rows"]]
            cell = {"rows": rows, "budget": {k: v for k, v in doc.get("budget", {}).items() if k != "cpu_s"}}
            if "champion" in doc:
                cell["champion"] = doc["champion"]
            out["study"][doc["cell"]] = cell
    return _clean(out)


def main(argv: list[str]) -> int:
    got = record()
    if "--write" in argv:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"wrote {FIXTURE}")
        return 0
    want = json.loads(FIXTURE.read_text())
    print("identical" if got == want else "DIFFERENT")
    return 0 if got == want else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
