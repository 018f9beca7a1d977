"""Islands vs one population: wall time, champion quality, and the driver's cost per generation.

    python experiments/islands_bench.py --seeds 10 --population 192 --generations 200 \
        --islands 4 --interval 10 --migrants 2 --executor ray --out experiments/results/islands-bench

Part 1, for each seed: the same experiment (task, population, generations, seed) as one
population on the Ray evaluator pool (``--workers``, default one per island) and as
``--islands`` islands (one actor each). Prints each run's wall seconds, the ratio
single / islands, and each champion's score on fresh test episodes (``--test-episodes`` from
`wann.seeds.TEST_SEED`, mean over the search's shared weights: the search objective on episodes
neither run saw), then the mean ratio and the paired champion difference over seeds.

Part 2, the driver's own work per generation against the population size (``--sizes``): one
population's `Search.tell` (rank and breed: all in the driver), timed on synthetic rewards, and
the dispatch overhead of both modes (``dispatch_s`` of a short run's metrics.csv: the wait beyond
the evaluation's compute per generation). In island mode the driver does no tell at all. From the
single-population run it also prints the driver's CPU-seconds per generation (``gen_cpu_s``: tell,
dispatch, bookkeeping), the evaluation's CPU-seconds per generation (all evaluators), and their
ratio: the number of evaluator cores at which the driver would be busy half of each generation
(beyond it, adding cores mostly adds waiting on the driver); and the island run's driver CPU per
generation (routing migrants, writing files, scoring the island champions on selection
episodes at each epoch).

``--part 1`` or ``--part 2`` runs one part only.

Smoke size: ``--seeds 1 --population 16 --generations 4 --islands 2 --interval 2 --max-steps 100
--task CartPole-v1 --sizes 16,32 --executor serial``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wann.evaluate import Evaluation, evaluate  # noqa: E402
from wann.search.experiment import ExecutionSettings, Experiment, SearchSettings  # noqa: E402
from wann.search.island_settings import IslandSettings  # noqa: E402
from wann.search.run import make_executor, run_search  # noqa: E402
from wann.search.search import Search  # noqa: E402
from wann.seeds import TEST_SEED  # noqa: E402
from wann.tasks import task_from_spec  # noqa: E402


def experiment(a, seed: int, population: int, generations: int, islands: bool) -> Experiment:
    task = {"name": a.task, **({"max_steps": a.max_steps} if a.max_steps else {})}
    search = SearchSettings(population=population, generations=generations, tournament=a.tournament)
    isl = IslandSettings(a.islands, a.interval, a.migrants, a.topology) if islands else None
    workers = a.workers or a.islands
    name = f"bench-{'isl' if islands else 'one'}"
    execution = ExecutionSettings(a.executor, workers)
    return Experiment(name, seed, task, search, execution=execution, islands=isl).resolved()


def test_score(exp: Experiment, genome, episodes: int) -> float:
    task = task_from_spec(exp.task)
    seeds = [TEST_SEED + i for i in range(episodes)]
    return float(evaluate(task, [genome], list(exp.search.shared_weights), seeds).rewards.mean())


def timed_run(exp: Experiment, out: Path):
    """The run and its wall seconds once its workers are up (evaluator pool or island actors)."""
    ex = make_executor(exp)
    try:
        r = run_search(exp, out, executor=ex, progress=False)
        return r, r.wall_s
    finally:
        ex.close()


def dispatch_per_generation(out: Path) -> float:
    with (out / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    per_gen: dict[str, float] = {}
    for r in rows:  # island runs: one row per island, the same dispatch_s for one generation
        per_gen[r["generation"]] = float(r["dispatch_s"])
    return statistics.mean(per_gen.values())


def tell_seconds(a, population: int, repeats: int = 3) -> float:
    exp = experiment(a, 0, population, 1, islands=False)
    search = Search.for_task(task_from_spec(exp.task), exp.search, exp.variation, 0)
    state = search.init()
    W, S = len(exp.search.shared_weights), exp.search.rollouts
    rng = np.random.default_rng(0)
    best = float("inf")
    for _ in range(repeats):
        ev = Evaluation(rng.normal(size=(population, W, S)), np.ones((population, W, S), dtype=np.int64))
        t0 = time.perf_counter()
        search.tell(state, ev)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--population", type=int, default=192)
    p.add_argument("--generations", type=int, default=200)
    p.add_argument("--islands", type=int, default=4)
    p.add_argument("--interval", type=int, default=10)
    p.add_argument("--migrants", type=int, default=2)
    p.add_argument("--topology", default="ring", choices=("ring", "full"))
    p.add_argument("--tournament", type=int, default=4)
    p.add_argument("--task", default="wann/CartPoleSwingUp-v0")
    p.add_argument("--max-steps", type=int, default=0, help="task.max_steps (0: the task's own)")
    p.add_argument("--executor", default="ray", choices=("ray", "serial"))
    p.add_argument("--workers", type=int, default=0, help="single-population Ray evaluators (0: --islands)")
    p.add_argument("--test-episodes", type=int, default=50)
    p.add_argument("--sizes", default="96,192,384,768,1536", help="populations for part 2")
    p.add_argument("--out", help="a new folder for the runs (default: a temporary folder)")
    p.add_argument("--part", choices=("1", "2", "all"), default="all", help="which part to run")
    a = p.parse_args(argv)
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="islands-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    if a.executor == "ray":  # one Ray for every run (each executor attaches to it)
        import os

        from wann.distributed import connect

        connect(None, num_cpus=max(os.cpu_count() or 1, a.islands, a.workers))

    if a.part != "2":
        part1(a, out)
    if a.part != "1":
        part2(a, out)
    return 0


def part1(a, out: Path) -> None:
    from scipy import stats

    print(f"part 1: {a.task}, population {a.population}, {a.generations} generations, {a.executor}; runs in {out}")
    print(f"{'seed':>4} {'one_s':>8} {'isl_s':>8} {'ratio':>6} {'one_test':>9} {'isl_test':>9} {'diff':>8}")
    for mode in ("one", "isl"):  # compile the kernels before anything is timed
        timed_run(experiment(a, 0, a.population, 1, islands=mode == "isl"), out / f"warmup-{mode}")
    ratios, diffs, ones, isls = [], [], [], []
    for seed in range(a.seeds):
        res = {}
        for mode in ("one", "isl"):
            exp = experiment(a, seed, a.population, a.generations, islands=mode == "isl")
            r, wall = timed_run(exp, out / f"{mode}-s{seed}")
            res[mode] = (wall, test_score(exp, r.state.best, a.test_episodes))
        (w1, q1), (w2, q2) = res["one"], res["isl"]
        ratios.append(w1 / w2)
        diffs.append(q2 - q1)
        ones.append(q1)
        isls.append(q2)
        print(f"{seed:>4} {w1:8.2f} {w2:8.2f} {w1 / w2:6.2f} {q1:9.2f} {q2:9.2f} {q2 - q1:8.2f}")
    sd = statistics.stdev(diffs) if len(diffs) > 1 else float("nan")
    print(
        f"mean wall ratio one/islands {statistics.mean(ratios):.2f}; test score one {statistics.mean(ones):.2f}, "
        f"islands {statistics.mean(isls):.2f}, paired difference {statistics.mean(diffs):+.2f} (sd {sd:.2f}, "
        f"n {len(diffs)})"
    )
    if len(diffs) > 1:
        ci = stats.t.interval(0.95, len(diffs) - 1, loc=statistics.mean(diffs), scale=sd / len(diffs) ** 0.5)
        p = stats.ttest_1samp(diffs, 0.0).pvalue
        w = stats.wilcoxon(diffs).pvalue if len(set(diffs)) > 1 else float("nan")
        print(
            f"paired difference islands - one: 95 % t-CI {ci[0]:+.2f} .. {ci[1]:+.2f}, "
            f"t-test p {p:.3f}, Wilcoxon p {w:.3f}"
        )


def driver_costs(out: Path) -> tuple[float, float]:
    """(driver CPU-s, evaluation CPU-s) per generation of a single-population run, the first
    generation left out (compilation, start-up)."""
    with (out / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))[1:]
    driver = statistics.mean(float(r["gen_cpu_s"]) for r in rows)
    cpu = [float(r["cpu_s"]) for r in rows]
    return driver, (cpu[-1] - cpu[0]) / max(1, len(cpu) - 1)


def island_driver_cpu(out: Path) -> float:
    """The driver's CPU-seconds per generation of an island run on Ray: the run's CPU (driver
    and islands) less the islands' own (``gen_cpu_s`` of every island row), per generation."""
    with (out / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    islands = sum(float(r["gen_cpu_s"]) for r in rows)
    return (float(rows[-1]["cpu_s"]) - islands) / len({r["generation"] for r in rows})


def part2(a, out: Path) -> None:
    print("\npart 2: the driver's work per generation (seconds)")
    print(
        f"{'population':>10} {'tell':>9} {'one_dispatch':>13} {'isl_dispatch':>13} {'driver_cpu':>11} "
        f"{'eval_cpu':>9} {'half_busy_cores':>15} {'isl_driver_cpu':>14}"
    )
    for size in (int(s) for s in a.sizes.split(",")):
        gens = max(3, a.interval)
        row = [tell_seconds(a, size)]
        for mode in ("one", "isl"):
            exp = experiment(a, 0, size, gens, islands=mode == "isl")
            timed_run(exp, out / f"driver-{mode}-p{size}")
            row.append(dispatch_per_generation(out / f"driver-{mode}-p{size}"))
        driver, ev = driver_costs(out / f"driver-one-p{size}")
        isl = island_driver_cpu(out / f"driver-isl-p{size}") if a.executor == "ray" else float("nan")
        print(
            f"{size:>10} {row[0]:9.5f} {row[1]:13.5f} {row[2]:13.5f} {driver:11.5f} {ev:9.3f} {ev / driver:15.0f} "
            f"{isl:14.5f}"
        )


if __name__ == "__main__":
    sys.exit(main())
