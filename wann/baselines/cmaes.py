"""The CMA-ES training engine of the RL counterparts, scored with the project's own evaluators.

Training is CMA-ES (package `cma`; Hansen's reference implementation): full covariance up to 400
free parameters, separable (diagonal) above. Each generation all candidates see the same episode
seeds (common random numbers). The network kept is the distribution mean (`xfavorite`), scored on
fresh held-out episodes at 10, 25, 50 and 100 % of the training budget (`CHECKPOINTS`).

Budget: counted in training episodes. One generation evaluates a population of `popsize`
candidates on `episodes_per_candidate` episodes each, i.e. popsize * episodes_per_candidate
episodes (32 * 4 = 128 by default); a budget of B episodes buys max(1, B // that) generations, so
at least one generation runs even when B is smaller. The `Budget` returned adds up the episodes,
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

import math
from collections.abc import Callable

import cma
import numpy as np

from wann.baselines.common import CHECKPOINTS, Budget, CpuClock, TrainResult, mean_sd
from wann.genome import Genome
from wann.seeds import CHECKPOINT_OFFSET, TEST_SEED, derived_rng
from wann.tasks.base import TaskKind
from wann.weighted import WeightedNetwork

Progress = Callable[[str], None]


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


def _checkpoint_marks(
    generations: int, per_gen: int, budget_episodes: int, span: tuple[int, int] | None
) -> dict[int, float]:
    """Generation -> budget fraction at which to record a checkpoint (see `cmaes` for `span`)."""
    if span is None:
        return {max(1, math.ceil(f * generations)): f for f in CHECKPOINTS}
    offset, total = span
    marks = {}
    for f in CHECKPOINTS:
        g = math.ceil((f * total - offset) / per_gen)
        if f == 1.0 and offset + budget_episodes >= total:
            g = generations
        if 1 <= g <= generations:
            marks[g] = f
    return marks


def cmaes(
    executor,
    genome: Genome,
    base: np.ndarray,
    free: np.ndarray,
    x0: np.ndarray,
    budget_episodes: int,
    seed: int,
    sigma0: float = 0.5,
    popsize: int = 32,
    episodes_per_candidate: int = 4,
    checkpoint_episodes: int = 20,
    budget: Budget | None = None,
    progress: Progress | None = None,
    label: str = "cmaes",
    span: tuple[int, int] | None = None,
) -> tuple[np.ndarray, Budget, list[dict]]:
    """Optimise weights[free] (starting at x0) by CMA-ES; other weights stay at `base`.

    base: (C,); free: bool (C,); x0: (free.sum(),). budget: a `Budget` to add to (a fresh one if
    None). span: (episodes already spent, total episodes) when this call is one stage of a longer
    schedule (iterative pruning): checkpoints then fall at 10/25/50/100 % of the total and report
    cumulative episodes. Returns (weights (C,), budget used, checkpoints). Budget counts training
    episodes only."""
    budget = budget or Budget()
    clock = CpuClock(executor)
    n = int(free.sum())
    weights = base.astype(np.float64).copy()
    if n == 0:
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
    generations = max(1, budget_episodes // per_gen)
    marks = _checkpoint_marks(generations, per_gen, budget_episodes, span)
    checkpoints = []
    start_eps = 0 if span is not None else budget.episodes
    for gen in range(1, generations + 1):
        xs = np.asarray(es.ask())
        rows = np.repeat(weights[None, :], len(xs), axis=0)
        rows[:, free] = xs
        seeds = [int(derived_rng(seed, gen, 7).integers(2**30)) + k for k in range(episodes_per_candidate)]
        r, st = executor.evaluate_weights(genome, rows, seeds)
        es.tell(list(xs), list(-r.mean(axis=1)))
        budget.add(r.size, st.sum(), clock.lap())
        if gen in marks:
            w = weights.copy()
            w[free] = es.result.xfavorite
            s = score(executor, WeightedNetwork(genome, w), checkpoint_episodes, TEST_SEED + CHECKPOINT_OFFSET)
            checkpoints.append(
                {
                    "fraction": marks[gen],
                    "episodes": budget.episodes - start_eps,
                    "env_steps": budget.env_steps,
                    "cpu_s": budget.cpu_s,
                    "score_mean": s["mean"],
                    "score_sd": s["sd"],
                }
            )
            if progress:
                progress(
                    f"{label}: {marks[gen]:.0%} of {budget_episodes} episodes, "
                    f"mean {s['mean']:.1f} on {checkpoint_episodes} held-out episodes"
                )
    weights[free] = es.result.xfavorite
    return weights, budget, checkpoints


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
    sigma0: float = 0.5,
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


__all__ = ["Progress", "cmaes", "fit_masked", "init_weights", "score"]
