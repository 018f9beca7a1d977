"""Print the README's task table from experiments/results/<task>/{evaluate,budget}.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "results"


def fmt(d: dict, pct: bool) -> str:
    if pct:
        return f"{100 * d['mean']:.1f} % +- {100 * d['sd']:.1f}"
    return f"{d['mean']:.1f} +- {d['sd']:.1f}"


def main(tasks: list[str]) -> None:
    print("| task | budget | connections | mean over six search values | best shared weight | random shared weight "
          "| random individual weights | ensemble |")
    print("|---|---|---|---|---|---|---|---|")
    for t in tasks:
        ev = json.loads((ROOT / t / "evaluate.json").read_text())
        bud = json.loads((ROOT / t / "budget.json").read_text())
        exp = (ROOT / t / "experiment.toml").read_text()
        pop = next(line.split("=")[1].strip() for line in exp.splitlines() if line.startswith("population"))
        pct = "ensemble_accuracy" in ev
        b = ev["best_shared"]
        sv = ev["search_values_mean"]
        print(f"| {ev['task']['name']}{' (no fall penalty)' if ev['task'].get('no_fall_penalty') else ''} "
              f"| {bud['generations']} gen x {pop}, {bud['episodes']:,} episodes, {bud['wall_s'] / 60:.1f} min "
              f"| {ev['connections']} | {100 * sv:.1f} %" if pct else
              f"| {ev['task']['name']}{' (no fall penalty)' if ev['task'].get('no_fall_penalty') else ''} "
              f"| {bud['generations']} gen x {pop}, {bud['episodes']:,} episodes, {bud['wall_s'] / 60:.1f} min "
              f"| {ev['connections']} | {sv:.1f}", end=" ")
        print(f"| {b['weight']:+.1f}: {fmt(b, pct)} | {fmt(ev['random_shared'], pct)} "
              f"| {fmt(ev['random_individual'], pct)} "
              f"| {100 * ev['ensemble_accuracy']:.1f} % |" if pct else
              f"| {b['weight']:+.1f}: {fmt(b, pct)} | {fmt(ev['random_shared'], pct)} "
              f"| {fmt(ev['random_individual'], pct)} | - |")


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(p.name for p in ROOT.iterdir() if (p / "budget.json").exists()))
