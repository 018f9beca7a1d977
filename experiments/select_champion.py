"""Pick one champion from several independent searches, on episodes the final report never uses.

    python experiments/select_champion.py RUN_DIR [RUN_DIR ...] --out champion.json

Each run's champion.json is scored with `wann.measures.assess.assess` on *selection* seeds (3,000,000 and
up; `wann evaluate` reports on seeds from 1,048,576), and the one with the highest best-shared-
weight mean wins. Prints one line per run and the choice; writes the chosen genome (its meta gains
`selected_from`, the per-run selection scores).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from wann.genome import Genome
from wann.measures.assess import assess
from wann.search.rundir import atomic_write_text

SELECTION_SEED = 3_000_000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--episodes", type=int, default=50)
    a = p.parse_args()
    scores = []
    for run in a.runs:
        g = Genome.load(run / "champion.json")
        r = assess(g, episodes=a.episodes, seed=SELECTION_SEED).to_dict()
        scores.append((r["best_shared"]["mean"], str(run), g, r))
        print(f"{run}: {g.n_connections} connections, search-values mean {r['search_values_mean']:.1f}, "
              f"best shared {r['best_shared']['weight']:+.1f} -> {r['best_shared']['mean']:.1f}")
    best = max(scores, key=lambda s: s[0])
    chosen = best[2].with_meta(
        run=best[1],
        selected_from=[{"run": s[1], "best_shared_mean": round(s[0], 2),
                        "search_values_mean": round(s[3]["search_values_mean"], 2)} for s in scores],
        selection_seeds=f"{SELECTION_SEED}..{SELECTION_SEED + a.episodes - 1}",
    )
    atomic_write_text(a.out, chosen.to_json())
    print(f"chosen: {best[1]} -> {a.out}")
    print(json.dumps({"chosen": best[1], "best_shared_mean_on_selection": best[0]}))


if __name__ == "__main__":
    main()
