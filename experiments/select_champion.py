"""Pick one champion from several independent searches, on episodes the final report never uses.

    python experiments/select_champion.py RUN_DIR [RUN_DIR ...] --out champion.json \
        [--last K] [--targets MEAN BEST] [--max-connections N]

Candidates: each run's champion.json, or with ``--last K`` its K latest champions
(``champions/gen-*.json``: each was the best-so-far by the search's noisy 3-rollout fitness when
it was written). Each is scored with `wann.measures.assess.assess` on *selection* seeds
(3,000,000 and up; `wann evaluate` reports on seeds from 1,048,576). The winner has the highest
best-shared-weight mean, or with ``--targets MEAN BEST`` the largest smaller margin
``min(search_values_mean - MEAN, best_shared_mean - BEST)`` (both goals at once); candidates with
more than ``--max-connections`` enabled connections are left out. Prints one line per candidate
and the choice; writes the chosen genome (its meta gains `selected_from`, the per-run scores of
each run's best candidate).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from wann.genome import Genome
from wann.measures.assess import assess
from wann.search.rundir import atomic_write_text

SELECTION_SEED = 3_000_000


def _candidates(run: Path, last: int) -> list[Path]:
    if last <= 1:
        return [run / "champion.json"]
    return sorted((run / "champions").glob("gen-*.json"))[-last:]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--last", type=int, default=1, help="score each run's K latest champions (default: champion.json)")
    p.add_argument("--targets", type=float, nargs=2, metavar=("MEAN", "BEST"))
    p.add_argument("--max-connections", type=int)
    a = p.parse_args()

    def rank(r) -> float:
        if a.targets is None:
            return r["best_shared"]["mean"]
        return min(r["search_values_mean"] - a.targets[0], r["best_shared"]["mean"] - a.targets[1])

    scores = []
    for run in a.runs:
        for path in _candidates(run, a.last):
            g = Genome.load(path)
            if a.max_connections is not None and g.n_connections > a.max_connections:
                print(f"{path}: {g.n_connections} connections, over --max-connections; left out")
                continue
            r = assess(g, episodes=a.episodes, seed=SELECTION_SEED).to_dict()
            scores.append((rank(r), str(run), g, r, str(path)))
            print(f"{path}: {g.n_connections} connections, search-values mean {r['search_values_mean']:.1f}, "
                  f"best shared {r['best_shared']['weight']:+.1f} -> {r['best_shared']['mean']:.1f}", flush=True)
    if not scores:
        raise SystemExit("no candidate left (see --max-connections)")
    best = max(scores, key=lambda s: s[0])
    per_run = {}
    for s in scores:
        if s[1] not in per_run or s[0] > per_run[s[1]][0]:
            per_run[s[1]] = s
    chosen = best[2].with_meta(
        run=best[1],
        selected_file=best[4],
        selected_from=[{"run": s[1], "file": s[4], "best_shared_mean": round(s[3]["best_shared"]["mean"], 2),
                        "search_values_mean": round(s[3]["search_values_mean"], 2)} for s in per_run.values()],
        selection_seeds=f"{SELECTION_SEED}..{SELECTION_SEED + a.episodes - 1}",
    )
    atomic_write_text(a.out, chosen.to_json())
    print(f"chosen: {best[4]} -> {a.out}")
    print(json.dumps({"chosen": best[1], "file": best[4], "best_shared_mean_on_selection": best[3]["best_shared"]["mean"],
                      "search_values_mean_on_selection": best[3]["search_values_mean"]}))


if __name__ == "__main__":
    main()
