"""The CMA-ES training engine of the RL counterparts, scored with the project's own evaluators.

Training is CMA-ES (package `cma`; Hansen's reference implementation): full covariance up to 400
free parameters, separable (diagonal) above. Each generation all candidates see the same episode
seeds (common random numbers). The network kept is the distribution mean (`xfavorite`), scored on
fresh held-out episodes at 10, 25, 50 and 100 % of the training budget (`CHECKPOINTS`).

Budget: counted in training episodes, and met exactly. One generation evaluates a population of
`popsize` candidates on `episodes_per_candidate` episodes each (32 * 4 = 128 by default); the
generation that would cross a checkpoint (10, 25, 50, 100 % of the budget, `CHECKPOINTS`) and the
last one are trimmed (`generation_plan`), so a budget of B episodes spends exactly B and every
checkpoint falls at the episode count it names. The `Budget` returned adds up the episodes,
environment steps and CPU-seconds of those training evaluations only: checkpoint and test scoring
are not charged.

Shapes: a genome with C connections (genome.connections, in order, bias edges and disabled
connections included) carries one weight per connection, a float vector of shape (C,). A training
run optimises the entries weights[free] selected by a boolean (C,) mask `free`, n = free.sum()
of them: the CMA-ES search space, its start x0 and every candidate are vectors of shape (n,), and
the entries outside `free` stay at their value in `base` (C,). The executor scores a batch of P
full weight vectors (P, C) on S episode seeds as (returns (P, S), steps (P, S)).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import cma
import numpy as np

from wann.baselines.common import CHECKPOINTS, Budget, CpuClock, TrainResult, mean_sd
from wann.baselines.inits import check_scheme, genome_init
from wann.genome import Genome
from wann.seeds import CHECKPOINT_OFFSET, TEST_SEED, derived_rng
from wann.tasks.base import TaskKind
from wann.weighted import WeightedNetwork

Progress = Callable[[str], None]

#: the shortest time between two progress messages of a training run (checkpoints aside)
PROGRESS_EVERY_S = 5.0


class Every:
    """Calls true at most once per `seconds` (default `PROGRESS_EVERY_S`; the first `seconds`
    after it was made or reset): a training loop's progress messages, without touching its
    numbers."""

    def __init__(self, seconds: float | None = None):
        self.seconds = PROGRESS_EVERY_S if seconds is None else seconds
        self.reset()

    def reset(self) -> None:
        self.last = time.monotonic()

    def __call__(self) -> bool:
        if time.monotonic() - self.last >= self.seconds:
            self.reset()
            return True
        return False


def score(executor, net: WeightedNetwork, episodes: int = 100, seed: int = TEST_SEED) -> dict[str, float]:
    """Mean +- SD of the return over `episodes` fresh episodes (seeds seed..seed+episodes-1); for
    classification tasks also the test-split accuracy."""
    task = getattr(executor, "task", None)
    if getattr(task, "kind", TaskKind.RL) == TaskKind.CLASSIFY:
        acc = float(task.accuracy(net.genome, conn_weights=net.weights, split="test"))
        return {"accuracy": acc, "mean": acc, "sd": 0.0, "n": len(task.split("test")[1])}
    r, _ = executor.evaluate_weights(net.genome, net.weights[None, :], list(range(seed, seed + episodes)))
    return mean_sd(r[0])


def init_weights(n: int, seed: int) -> np.ndarray:
    """The start of training from scratch: n weights drawn from N(0, 0.1^2), shape (n,)."""
    return derived_rng(seed, 0, 11).normal(0.0, 0.1, n)


def init_start(genome: Genome, init: str, seed: int, init_seed: int | None) -> tuple[np.ndarray, int]:
    """The initial weights (C,) of `genome` by init scheme `init` (`wann.baselines.inits`), drawn
    from `init_seed` (None: `seed`), and that seed. 'default' is `init_weights(C, init seed)`,
    N(0, 0.1^2): with init_seed None exactly the start of the code before schemes existed."""
    check_scheme(init)
    s0 = int(seed if init_seed is None else init_seed)
    C = len(genome.connections)
    return genome_init(genome, init, s0, default=lambda: init_weights(C, s0)), s0


#: CMA-ES step size of training from initial weights (dense nets, sparse nets from scratch)
FROM_INIT_SIGMA = 0.5


def budget_marks(fractions, total: int) -> list[int]:
    """The episode counts at which `fractions` of a `total`-episode budget are reached (at least 1)."""
    return [max(1, round(f * total)) for f in fractions]


def generation_plan(budget_episodes: int, per_gen: int, cuts) -> list[int]:
    """Episodes of each generation of a `budget_episodes` run: full generations of `per_gen`,
    the one that would cross a cut (an episode count in (0, budget]) and the last one trimmed, so
    that every cut falls on a generation boundary and the total is exactly the budget."""
    sizes, done = [], 0
    for c in sorted({int(c) for c in cuts if 0 < c < budget_episodes} | {int(budget_episodes)}):
        while done < c:
            e = min(per_gen, c - done)
            sizes.append(e)
            done += e
    return sizes


def cmaes(
    executor,
    genome: Genome,
    base: np.ndarray,
    free: np.ndarray,
    x0: np.ndarray,
    budget_episodes: int,
    seed: int,
    sigma0: float = FROM_INIT_SIGMA,
    popsize: int = 32,
    episodes_per_candidate: int = 4,
    checkpoint_episodes: int = 20,
    budget: Budget | None = None,
    progress: Progress | None = None,
    label: str = "cmaes",
    span: tuple[int, int] | None = None,
    snapshots: dict[float, np.ndarray] | None = None,
) -> tuple[np.ndarray, Budget, list[dict]]:
    """Optimise weights[free] (starting at x0) by CMA-ES; other weights stay at `base`, for
    exactly `budget_episodes` training episodes.

    base: (C,); free: bool (C,); x0: (free.sum(),). budget: a `Budget` to add to (a fresh one if
    None). span: (episodes already spent, total episodes) when this call is one stage of a longer
    schedule (iterative pruning, a grid search before it): checkpoints then fall at 10/25/50/100 %
    of the total and report cumulative episodes. snapshots: {fraction: None, ...} filled in place
    with the weights (C,) after that fraction of this call's budget, round(f * budget_episodes)
    episodes (at least 1; late rewinding, one-shot pruning at a time). Fractions that round to
    the same episode count all get that point's weights. Left untouched when nothing is trained
    (n == 0 or no budget). Each snapshot falls on a generation boundary: a fraction whose episode
    count is not already a cut (a checkpoint at 10/25/50/100 %, or another snapshot) adds one,
    which changes the generation plan and so the run.

    Exact budget: a generation is `popsize` candidates x `episodes_per_candidate` episodes; the
    generation that would cross a checkpoint or snapshot, and the last, are trimmed
    (`generation_plan`). A trimmed generation of e episodes gives all candidates e // popsize
    episodes and the first e % popsize one more (each ranked by its mean return); below popsize
    episodes only e candidates are scored, one episode each, and the distribution is updated only
    when e reaches CMA-ES's parent number mu (popsize // 2); with fewer, the candidates are
    re-scored in the next generation when pycma adapts the step size by TPA (from 300
    dimensions), which needs every sample it gave told. Returns (weights (C,), budget used,
    checkpoints); the budget counts training episodes only (checkpoint scoring is not charged)."""
    budget = budget or Budget()
    clock = CpuClock(executor)
    n = int(free.sum())
    weights = base.astype(np.float64).copy()
    offset, total = span if span is not None else (0, budget_episodes)
    if n == 0 or budget_episodes <= 0:
        return weights, budget, []
    opts = {
        "popsize": popsize,
        "seed": int(seed) % (2**31 - 1) + 1,
        "verbose": -9,
        "CMA_diagonal": n > 400,
        "tolfun": 0,
        "tolfunhist": 0,
        "tolx": 0,
        "tolstagnation": 10**9,
    }
    es = cma.CMAEvolutionStrategy(np.asarray(x0, dtype=np.float64), sigma0, opts)
    per_gen = popsize * episodes_per_candidate
    marks: dict[int, list[float]] = {}
    for f, m in zip(CHECKPOINTS, budget_marks(CHECKPOINTS, total)):
        if 0 < m - offset <= budget_episodes:
            marks.setdefault(m - offset, []).append(f)
    snaps: dict[int, list[float]] = {}
    for f in snapshots or {}:
        snaps.setdefault(max(1, round(f * budget_episodes)), []).append(f)
    plan = generation_plan(budget_episodes, per_gen, list(marks) + list(snaps))
    checkpoints = []
    done = 0
    tick = Every()
    carry = None  # candidates of a generation too small to tell, asked again (TPA, below)
    for gen, e in enumerate(plan, start=1):
        xs = carry if carry is not None else np.asarray(es.ask())
        carry = None
        rows = np.repeat(weights[None, :], len(xs), axis=0)
        rows[:, free] = xs
        seeds = [int(derived_rng(seed, gen, 7).integers(2**30)) + k for k in range(-(-e // popsize))]
        fit, steps, told = _evaluate_trimmed(executor, genome, rows, seeds, e)
        if len(told) >= max(3, es.sp.weights.mu):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a trimmed generation: fewer solutions than popsize
                es.tell([xs[i] for i in told], [-fit[i] for i in told])
        elif es.mean_shift_samples:
            # two-point step-size adaptation (pycma's choice from ~300 dimensions) needs every
            # ask told: the next generation re-scores these candidates instead of asking anew
            carry = xs
        budget.add(e, steps, clock.lap())
        done += e
        if progress and tick():
            scored = fit[told]
            progress(
                f"{label}: generation {gen}/{len(plan)}, {offset + done}/{total} episodes, "
                f"candidates' mean return {scored.mean():.1f} (best {scored.max():.1f})"
            )
        if done in snaps and snapshots is not None:
            w = weights.copy()
            w[free] = es.result.xfavorite
            for f in snaps[done]:
                snapshots[f] = w.copy()
        for f in marks.get(done, ()):
            w = weights.copy()
            w[free] = es.result.xfavorite
            s = score(executor, WeightedNetwork(genome, w), checkpoint_episodes, TEST_SEED + CHECKPOINT_OFFSET)
            checkpoints.append(
                {
                    "fraction": f,
                    "episodes": offset + done,
                    "env_steps": budget.env_steps,
                    "cpu_s": budget.cpu_s,
                    "score_mean": s["mean"],
                    "score_sd": s["sd"],
                }
            )
            if progress:
                tick.reset()
                progress(
                    f"{label}: {f:.0%} of {total} episodes, "
                    f"mean {s['mean']:.1f} on {checkpoint_episodes} held-out episodes"
                )
    weights[free] = es.result.xfavorite
    return weights, budget, checkpoints


def _evaluate_trimmed(executor, genome: Genome, rows: np.ndarray, seeds: list[int], e: int):
    """Score a generation's candidates (P, C) with exactly `e` episodes in all: returns (mean
    return per candidate (P,), env steps, indices of the candidates scored)."""
    P = len(rows)
    base, extra = divmod(e, P)
    fit = np.zeros(P)
    steps = 0
    if base == 0:
        r, st = executor.evaluate_weights(genome, rows[:extra], seeds[:1])
        fit[:extra] = r[:, 0]
        return fit, int(st.sum()), list(range(extra))
    r, st = executor.evaluate_weights(genome, rows, seeds[:base])
    tot, cnt = r.sum(axis=1), np.full(P, base, dtype=np.float64)
    steps += int(st.sum())
    if extra:
        r2, st2 = executor.evaluate_weights(genome, rows[:extra], seeds[base : base + 1])
        tot[:extra] += r2[:, 0]
        cnt[:extra] += 1
        steps += int(st2.sum())
    fit = tot / cnt
    return fit, steps, list(range(P))


def fit_masked(
    executor,
    genome: Genome,
    mask: np.ndarray,
    start: np.ndarray,
    budget_episodes: int,
    seed: int,
    method: str,
    test_episodes: int = 100,
    progress: Progress | None = None,
    sigma0: float = FROM_INIT_SIGMA,
) -> TrainResult:
    """Train the weights genome.connections[mask] by CMA-ES from `start` (C,) and score the
    result: the shared tail of every 'train this sparse net' method. Weights outside the bool
    (C,) `mask` are zero in the network returned."""
    base = np.where(mask, start, 0.0)
    w, budget, ck = cmaes(
        executor,
        genome,
        base,
        mask,
        start[mask],
        budget_episodes,
        seed,
        sigma0=sigma0,
        progress=progress,
        label=method.replace("_", " "),
    )
    net = WeightedNetwork(genome, np.where(mask, w, 0.0), {"method": method})
    return TrainResult(method, net, score(executor, net, test_episodes), budget, ck)


__all__ = [
    "FROM_INIT_SIGMA",
    "PROGRESS_EVERY_S",
    "Every",
    "Progress",
    "budget_marks",
    "cmaes",
    "fit_masked",
    "generation_plan",
    "init_start",
    "init_weights",
    "score",
]
