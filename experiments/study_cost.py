"""Estimate the core-hours of a study from the cells of smaller studies measured here.

    python experiments/study_cost.py experiments/study-founding-full.toml \
        --from experiments/results/study-founding experiments/results/study-bipedal --cores 128

Every cell the big study plans is priced from the measured cells of the same task label and
method (falling back to the task's mean trained cell for a method or variant not measured):
its measured wall seconds (one core each) scaled by the ratio of the work it does, i.e.

- a search cell: population x generations x rollouts x episode steps (the search's own settings
  in each study's experiment files; the step cap `max_steps`, else the task's episode limit);
- an RL training cell: its training episodes (the task's budget) x episode steps;
- a classification training cell: its epochs (torch) x training examples.

Linear scaling is a lower bound for searches (champions grow with the generations, and so does
the cost of an episode) and about right for training cells; the output says so. Prints one row per
task and the total, in core-hours, and the wall hours at --cores cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: the episode limit of the tasks whose registration sets one (steps)
EPISODE_STEPS = {"wann/CartPoleSwingUp-v0": 1000, "Pendulum-v1": 200, "BipedalWalker-v3": 1600, "CartPole-v1": 500}


def _steps(spec: dict) -> int:
    return int(spec.get("max_steps") or EPISODE_STEPS.get(spec["name"], 1))


def _work(task_cfg, kind: str) -> float:
    """The work of one cell of `kind` on `task_cfg` (a StudyTask), in arbitrary units that scale
    its cost linearly."""
    from wann.tasks import make_task

    spec = task_cfg.spec
    if kind == "search":
        s = task_cfg.search["search"]
        per = _steps(spec) if task_cfg.kind == "rl" else int(spec.get("batch_size", 1))
        return float(s["population"]) * float(s["generations"]) * float(s.get("rollouts", 1)) * per
    if task_cfg.kind == "rl":
        return float(task_cfg.budget) * _steps(spec)
    task = make_task(spec["name"], **{k: v for k, v in spec.items() if k != "name"})
    return float(task_cfg.epochs) * len(task.split("train")[1])


def measured(run_dirs: list[Path]) -> dict[tuple[str, str], list[float]]:
    """(task label, cell kind) -> seconds per unit of work, over the finished cells of `run_dirs`."""
    from wann.study.spec import load_study

    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run in run_dirs:
        meta = json.loads((run / "study.json").read_text())
        study = load_study(ROOT / meta["source"] if not Path(meta["source"]).is_absolute() else meta["source"], out=run)
        by_label = {t.label: t for t in study.tasks}
        for f in (run / "cells").glob("*.json"):
            doc = json.loads(f.read_text())
            if doc.get("identity") != meta["identity"]:
                continue
            label, kind = doc["cell"].split("/")[:2]
            out[(label, kind)].append(float(doc["wall_s"]) / _work(by_label[label], kind))
    return out


def estimate(study_file: Path, run_dirs: list[Path]) -> dict[str, dict[str, float]]:
    """Task label -> {"cells", "core_h", "search_core_h"} of the study in `study_file`."""
    from wann.study.plan import plan
    from wann.study.spec import load_study

    rates = measured(run_dirs)
    study = load_study(study_file)
    by_label = {t.label: t for t in study.tasks}
    rows: dict[str, dict[str, float]] = defaultdict(lambda: {"cells": 0, "core_h": 0.0, "search_core_h": 0.0})
    for c in plan(study):
        known = rates.get((c.task, c.kind))
        if not known:  # a method (or variant) not measured on this task: the task's mean trained cell
            known = [r for (t, k), v in rates.items() if t == c.task and k not in ("search", "wann") for r in v]
        if not known:
            raise SystemExit(f"no measured cells of task {c.task!r}: add a measured study with it (--from)")
        seconds = sum(known) / len(known) * _work(by_label[c.task], c.kind)
        r = rows[c.task]
        r["cells"] += 1
        r["core_h"] += seconds / 3600
        if c.kind == "search":
            r["search_core_h"] += seconds / 3600
    return dict(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", type=Path)
    ap.add_argument("--from", dest="runs", type=Path, nargs="+", default=[ROOT / "experiments/results/study-founding"])
    ap.add_argument("--cores", type=int, default=128)
    args = ap.parse_args(argv)
    rows = estimate(args.study, args.runs)
    total = sum(r["core_h"] for r in rows.values())
    print(f"estimated cost of {args.study} (linear in each cell's work; a lower bound for the searches):")
    print(f"{'task':<10} {'cells':>7} {'core-hours':>11} {'of which searches':>18}")
    for label, r in rows.items():
        print(f"{label:<10} {r['cells']:>7,} {r['core_h']:>11,.0f} {r['search_core_h']:>18,.0f}")
    print(f"{'total':<10} {sum(r['cells'] for r in rows.values()):>7,} {total:>11,.0f}")
    print(f"at {args.cores} cores: about {total / args.cores:,.1f} hours wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
