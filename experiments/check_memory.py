"""Memory check for a finished run: does any process grow after generation 10?

    python experiments/check_memory.py RUN_DIR [--after 10] [--max-growth 0.10] [--max-total-mb 2048]

Reads RUN_DIR/metrics.csv (driver_rss_mb, evaluator_rss_mb = one value per evaluator,
process_tree_rss_mb = driver + local Ray + evaluators) and prints one JSON object; exits 1 when a
limit is broken.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path


def check(run_dir: Path, after: int = 10, max_growth: float = 0.10, max_total_mb: float = 2048.0) -> dict:
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    base = next(r for r in rows if int(r["generation"]) == after)
    late = [r for r in rows if int(r["generation"]) >= after]
    series = {"driver": [float(r["driver_rss_mb"]) for r in late]}
    evaluators = [list(map(float, r["evaluator_rss_mb"].split(";"))) for r in late if r.get("evaluator_rss_mb")]
    if evaluators and all(len(e) == len(evaluators[0]) for e in evaluators):
        for k in range(len(evaluators[0])):
            series[f"evaluator{k}"] = [e[k] for e in evaluators]
    growth = {name: max(v) / v[0] - 1.0 for name, v in series.items()}
    total = [float(r["process_tree_rss_mb"]) for r in rows]
    out = {
        "generations": len(rows),
        "baseline_generation": int(base["generation"]),
        "growth_after_baseline": growth,
        "max_growth": max(growth.values()),
        "process_tree_rss_mb_max": max(total),
        "driver_rss_mb": [series["driver"][0], max(series["driver"])],
        "ok": max(growth.values()) <= max_growth and max(total) <= max_total_mb,
    }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("--after", type=int, default=10)
    p.add_argument("--max-growth", type=float, default=0.10)
    p.add_argument("--max-total-mb", type=float, default=2048.0)
    a = p.parse_args()
    out = check(a.run_dir, a.after, a.max_growth, a.max_total_mb)
    print(json.dumps(out, indent=1))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
