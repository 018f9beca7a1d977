"""Does the wider add-connection rule cost quality per generation? Acyclic vs layered, paired by seed.

    python experiments/connection_rule.py --seeds 10 --population 96 --generations 256 \
        --jobs 2 --out experiments/results/connection-rule

For each seed, the same swing-up search (task, population, generations, seed) runs twice, once
per `[variation] connection_rule`: "acyclic" (ours: any new edge that keeps the graph acyclic,
uniform over such edges) and "layered" (the reference's: a random source, then a random node in
a strictly later layer; outputs never feed another node). Every search runs serially in its own
process, ``--jobs`` at a time; a finished run is kept and reused when the script is run again.

At 25, 50 and 100 % of the generations, each run's champion at that point (the latest
``champions/gen-K.json``) is scored on ``--test-episodes`` fresh episodes from
`wann.seeds.TEST_SEED` (seeds no search saw), as the mean over the search's six shared weights
(the search objective). The script prints, per checkpoint, both rules' mean and the paired
difference layered - acyclic with its 95 % t interval, the paired t-test and Wilcoxon p, and the
champions' connections; it writes ``results.csv`` (one row per run and checkpoint), ``summary.txt``
(what it printed) and ``curves.png`` (the search's own best fitness per generation, median and
quartiles over seeds, both rules).

Smoke size: ``--seeds 2 --population 16 --generations 8 --test-episodes 4 --max-steps 100``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RULES = ("acyclic", "layered")
CHECKPOINTS = (0.25, 0.5, 1.0)


def _experiment(rule: str, seed: int, a):
    from wann.search.experiment import ExecutionSettings, Experiment, SearchSettings
    from wann.search.variation import VariationSettings

    task = {"name": "wann/CartPoleSwingUp-v0", **({"max_steps": a.max_steps} if a.max_steps else {})}
    search = SearchSettings(population=a.population, generations=a.generations)
    return Experiment(
        f"rule-{rule}", seed, task, search, VariationSettings(connection_rule=rule), ExecutionSettings("serial", 1)
    ).resolved()


def _run(rule: str, seed: int, a, out: Path) -> float:
    """One search in this process (resumed when a partial run exists); returns its CPU seconds."""
    from wann.search.run import run_search

    exp = _experiment(rule, seed, a)
    done = out / "champion.json"
    if done.exists() and _generations_done(out) >= a.generations:
        return _cpu_s(out)
    run_search(exp, out, resume=(out / "checkpoint.json").exists(), progress=False)
    return _cpu_s(out)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _generations_done(out: Path) -> int:
    p = out / "metrics.csv"
    return len(_rows(p)) if p.exists() else 0


def _cpu_s(out: Path) -> float:
    return float(_rows(out / "metrics.csv")[-1]["cpu_s"])


def champion_at(out: Path, generation: int):
    """The run's champion after `generation` (0-based): the latest champions/gen-K.json, K <= it."""
    from wann.genome import Genome

    files = sorted(out.glob("champions/gen-*.json"))
    best = [f for f in files if int(f.stem.split("-")[1]) <= generation]
    return Genome.load(best[-1] if best else files[0])


def test_score(genome, a) -> float:
    from wann.evaluate import evaluate
    from wann.seeds import DEFAULT_SHARED_WEIGHTS, TEST_SEED
    from wann.tasks import make_task

    task = make_task("wann/CartPoleSwingUp-v0", **({"max_steps": a.max_steps} if a.max_steps else {}))
    seeds = [TEST_SEED + i for i in range(a.test_episodes)]
    return float(evaluate(task, [genome], list(DEFAULT_SHARED_WEIGHTS), seeds).rewards.mean())


def paired(x: np.ndarray, y: np.ndarray) -> str:
    """'mean diff [95 % t CI], t p, Wilcoxon p' for the paired differences x - y."""
    from scipy import stats

    d = x - y
    n = len(d)
    if n < 2:
        return f"diff {d.mean():+.1f} (n = 1: no interval)"
    se = d.std(ddof=1) / np.sqrt(n)
    h = stats.t.ppf(0.975, n - 1) * se
    tp = stats.ttest_rel(x, y).pvalue if se > 0 else 1.0
    wp = stats.wilcoxon(d).pvalue if np.any(d != 0) else 1.0
    return f"diff {d.mean():+.1f} [{d.mean() - h:+.1f}, {d.mean() + h:+.1f}], t p {tp:.2f}, Wilcoxon p {wp:.2f}"


def plot(out: Path, runs: dict[tuple[str, int], Path]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for rule, colour in zip(RULES, ("tab:blue", "tab:orange")):
        curves = np.array([[float(r["best_fitness"]) for r in _rows(p / "metrics.csv")]
                           for (ru, _), p in sorted(runs.items()) if ru == rule])
        q1, med, q3 = np.percentile(curves, [25, 50, 75], axis=0)
        g = np.arange(curves.shape[1])
        ax.plot(g, med, color=colour, label=f"{rule} (median of {len(curves)} seeds)")
        ax.fill_between(g, q1, q3, color=colour, alpha=0.2)
    ax.set_xlabel("generation")
    ax.set_ylabel("best fitness in the generation\n(mean return over 6 shared weights)")
    ax.set_title("Swing-up: add-connection rule, best of each generation (quartile bands)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=120)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--population", type=int, default=96)
    p.add_argument("--generations", type=int, default=256)
    p.add_argument("--test-episodes", type=int, default=100)
    p.add_argument("--max-steps", type=int, default=0, help="episode length (0: the task's 1000)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("runs/connection-rule"))
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    runs = {(rule, s): a.out / "runs" / f"{rule}-s{s}" for s in range(a.seeds) for rule in RULES}
    with ProcessPoolExecutor(a.jobs) as pool:
        futures = {k: pool.submit(_run, k[0], k[1], a, path) for k, path in runs.items()}
        cpu = {k: f.result() for k, f in futures.items()}
    lines = [
        f"swing-up, population {a.population}, {a.generations} generations, seeds 0..{a.seeds - 1}; "
        f"champions scored on {a.test_episodes} fresh episodes (mean over the 6 shared weights)"
    ]
    table = []
    for f in CHECKPOINTS:
        gen = max(0, round(f * a.generations) - 1)
        score = {}
        conns = {}
        for rule in RULES:
            gs = [champion_at(runs[(rule, s)], gen) for s in range(a.seeds)]
            score[rule] = np.array([test_score(g, a) for g in gs])
            conns[rule] = np.array([g.n_connections for g in gs])
            for s, (g, sc) in enumerate(zip(gs, score[rule])):
                table.append({"rule": rule, "seed": s, "fraction": f, "generation": gen, "test_mean": round(sc, 3),
                              "connections": g.n_connections, "cpu_s": round(cpu[(rule, s)], 1)})
        lines.append(
            f"{f:>4.0%} (generation {gen}): "
            + ", ".join(f"{r} {score[r].mean():.1f} ({conns[r].mean():.0f} connections)" for r in RULES)
            + "; layered - acyclic: " + paired(score["layered"], score["acyclic"])
        )
    for rule in RULES:
        c = [cpu[(rule, s)] for s in range(a.seeds)]
        lines.append(f"{rule}: {np.mean(c):.0f} CPU-s per search (range {min(c):.0f}-{max(c):.0f})")
    with open(a.out / "results.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    (a.out / "summary.txt").write_text("\n".join(lines) + "\n")
    plot(a.out, runs)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
