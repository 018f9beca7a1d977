"""Trained counterparts on RL tasks: the recipes, scored with the project's own evaluators.

Each recipe builds a network, trains it with the CMA-ES engine (`wann.baselines.cmaes`, where the
budget in episodes, met exactly, and the weight-vector shapes are defined) and scores it on fresh
test episodes:
- dense / small dense: an MLP (tanh hidden, linear outputs) from initial weights drawn by an init
  scheme (`wann.baselines.inits`; 'default': small random weights, N(0, 0.1^2)); the dense net
  also keeps its initial weights, a snapshot after `REWIND_FRACTION` of its training and
  snapshots after 10/25/50/100 % of it (`SNAPSHOT_FRACTIONS`, keys by `snapshot_key`), which
  the one-shot pruned nets (`rl_pruning.oneshot`) prune;
- WANN champion: best shared weight (grid search), individually tuned weights (CMA-ES offsets
  from the best shared value; the grid search is spent inside the budget), or the topology
  retrained from fresh weights drawn by an init scheme.
Init schemes and replicates: `init` names the scheme, `init_seed` (None: the run's `seed`) the
seed of the initial weights only; the CMA-ES sampling and the test episodes follow `seed`, so a
replicate (`inits.replicate_seed`) re-draws only the start. init='default' with init_seed None is
bit-identical to the code before schemes existed.
The pruned nets, tickets and random sparse nets made from the dense net live in
`wann.baselines.rl_pruning`; `shared_weight_probe` evaluates any of their masks WANN-style.
"""

from __future__ import annotations

import numpy as np

from wann import activations
from wann.baselines.cmaes import Progress, cmaes, fit_masked, init_start, score
from wann.baselines.common import Budget, CpuClock, TrainResult
from wann.errors import ConfigError
from wann.genome import Genome
from wann.seeds import DEFAULT_SHARED_WEIGHTS
from wann.weighted import WeightedNetwork, mlp_genome

#: late rewinding: the dense net's weights after this fraction of its training budget
REWIND_FRACTION = 0.05
#: episodes per grid value of the best-shared-weight search when the budget allows
GRID_EPISODES = 20
#: fractions of the dense net's training after which `train_dense` keeps a snapshot of its
#: weights (meta["snapshots"]; 1.0, the final weights, is always added). They coincide with the
#: checkpoints, so keeping them leaves the CMA-ES run unchanged.
SNAPSHOT_FRACTIONS = (0.1, 0.25, 0.5)


def snapshot_key(fraction: float) -> str:
    """The meta["snapshots"] key of a training fraction: `str(float(fraction))`, e.g. "0.1",
    "0.25", "0.5", "1.0"."""
    return str(float(fraction))


def small_dense_width(n_in: int, n_out: int, target_connections: int) -> int:
    """Hidden width of a one-layer MLP whose connection count (biases included) is closest to
    the target: h (n_in + 1) + n_out (h + 1)."""
    return max(1, round((target_connections - n_out) / (n_in + 1 + n_out)))


def train_dense(
    executor,
    task,
    hidden: list[int],
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
    method: str = "dense",
    init: str = "default",
    init_seed: int | None = None,
    snapshot_fractions: tuple[float, ...] = SNAPSHOT_FRACTIONS,
) -> TrainResult:
    """An MLP (tanh hidden, linear outputs) trained with CMA-ES for exactly `budget_episodes`
    episodes from initial weights (C,) drawn by scheme `init` from `init_seed` (None: `seed`;
    `init_start`); the CMA-ES sampling follows `seed`.

    Its meta keeps the initial weights ("init", C floats), the scheme ("init_scheme"), the
    weights after `REWIND_FRACTION` of the budget ("rewind"), which the tickets rewind to, and
    "snapshots": {snapshot_key(f): weights (C floats)} for f in `snapshot_fractions` plus 1.0
    (the final weights), the CMA-ES mean after round(f * budget_episodes) episodes, which
    `rl_pruning.oneshot` prunes. The default fractions (0.1, 0.25, 0.5) are checkpoints, so they
    add no generation boundary: init='default' with init_seed None is the same run, bit for bit,
    as before schemes and snapshots existed. Other fractions add a boundary (see `cmaes`)."""
    g = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.TANH)
    C = len(g.connections)
    x0, s0 = init_start(g, init, seed, init_seed)
    fractions = sorted({float(f) for f in snapshot_fractions if 0 < float(f) < 1})
    snaps: dict[float, np.ndarray] = {REWIND_FRACTION: x0, **{f: x0 for f in fractions}}
    w, budget, ck = cmaes(
        executor,
        g,
        np.zeros(C),
        np.ones(C, bool),
        x0,
        budget_episodes,
        seed,
        progress=progress,
        label=f"{method} {task.n_inputs}-{'-'.join(map(str, hidden))}-{task.n_outputs}",
        snapshots=snaps,
    )
    rewind = {
        "fraction": REWIND_FRACTION,
        "episodes": max(1, round(REWIND_FRACTION * budget_episodes)),
        "weights": np.asarray(snaps[REWIND_FRACTION]).tolist(),
    }
    snapshots = {snapshot_key(f): np.asarray(snaps[f]).tolist() for f in fractions}
    snapshots[snapshot_key(1.0)] = np.asarray(w).tolist()
    meta = {
        "method": method,
        "hidden": hidden,
        "init": x0.tolist(),
        "init_scheme": init,
        "init_seed": s0,
        "rewind": rewind,
        "snapshots": snapshots,
    }
    net = WeightedNetwork(g, w, meta)
    info = {"hidden": hidden, "parameters": C, "init": init, "init_seed": s0}
    return TrainResult(method, net, score(executor, net, test_episodes), budget, ck, info)


def best_shared(
    executor, task, champion: Genome, episodes: int = 20, seed: int = 5_000_000, test_episodes: int = 100
) -> TrainResult:
    """Grid search of the shared weight on training episodes (-2..2 step 0.1, 0 excluded)."""
    from wann.measures.assess import weight_grid

    clock = CpuClock(executor)
    grid = weight_grid(DEFAULT_SHARED_WEIGHTS)
    C = len(champion.connections)
    rows = np.repeat(grid[:, None], C, axis=1)
    r, st = executor.evaluate_weights(champion, rows, list(range(seed, seed + episodes)))
    budget = Budget()
    budget.add(r.size, st.sum(), clock.lap())
    w = float(grid[int(np.argmax(r.mean(axis=1)))])
    net = WeightedNetwork(champion, np.full(C, w), {"method": "wann_best_shared", "shared_weight": w})
    return TrainResult(
        "wann_best_shared",
        net,
        score(executor, net, test_episodes),
        budget,
        info={"shared_weight": w, "profile": r.mean(axis=1).tolist(), "grid": grid.tolist()},
    )


def grid_episodes(budget_episodes: int) -> int:
    """Episodes per grid value of the best-shared-weight search inside a `budget_episodes` budget:
    `GRID_EPISODES`, fewer when the grid would take more than half the budget; 0 when the budget
    cannot pay one episode per value and leave CMA-ES as much."""
    from wann.measures.assess import weight_grid

    G = len(weight_grid(DEFAULT_SHARED_WEIGHTS))
    return min(GRID_EPISODES, (budget_episodes // 2) // G)


def tune_wann(
    executor,
    task,
    champion: Genome,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """Individual weights tuned by CMA-ES as offsets from the best shared value. The grid search
    for that value is spent inside the budget (`grid_episodes` per value, then CMA-ES for the
    rest): the result costs exactly `budget_episodes` episodes."""
    from wann.measures.assess import weight_grid

    k = grid_episodes(budget_episodes)
    if k < 1:
        G = len(weight_grid(DEFAULT_SHARED_WEIGHTS))
        raise ConfigError(
            "budget",
            f"wann_tuned needs at least {2 * G} episodes ({G} for the shared-weight grid search, "
            f"as many for CMA-ES), got {budget_episodes}",
        )
    start = best_shared(executor, task, champion, episodes=k)
    spent = start.budget.episodes
    w0 = start.network.weights
    free = np.array([c.enabled for c in champion.connections])
    w, budget, ck = cmaes(
        executor,
        champion,
        w0,
        free,
        w0[free],
        budget_episodes - spent,
        seed,
        budget=start.budget,
        progress=progress,
        label="wann_tuned",
        sigma0=0.1,  # fine-tuning offsets around w*, the step size the pruned nets are fine-tuned with
        span=(spent, budget_episodes),
    )
    info = {
        "from_shared": start.info["shared_weight"],
        "grid_episodes": spent,
        "cmaes_episodes": budget_episodes - spent,
    }
    net = WeightedNetwork(champion, w, {"method": "wann_tuned", "from_shared": start.info["shared_weight"]})
    return TrainResult("wann_tuned", net, score(executor, net, test_episodes), budget, ck, info)


def retrain_topology(
    executor,
    task,
    champion: Genome,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
    init: str = "default",
    init_seed: int | None = None,
) -> TrainResult:
    """The champion's topology (its enabled connections) with fresh weights drawn by scheme `init`
    from `init_seed` (None: `seed`; `init_start`), trained by CMA-ES for exactly
    `budget_episodes` episodes (sampling seeded by `seed`): is the graph a good ticket?"""
    mask = np.array([c.enabled for c in champion.connections])
    start, s0 = init_start(champion, init, seed, init_seed)
    r = fit_masked(
        executor,
        champion,
        mask,
        start,
        budget_episodes,
        seed,
        "wann_retrained",
        test_episodes,
        progress,
    )
    r.info.update({"init": init, "init_seed": s0})
    r.network.meta.update({"init_scheme": init, "init_seed": s0})
    return r


PROBE_VARIANTS = ("signed", "positive", "signed_bias_trained", "positive_bias_trained")


def shared_weight_probe(
    executor, net: WeightedNetwork, episodes: int = 20, seed: int = 5_000_000, test_episodes: int = 100
) -> dict:
    """A (pruned) mask evaluated WANN-style, one shared value w for every kept weight, in four
    variants (`PROBE_VARIANTS`): "signed" (each kept weight sign(w_trained) * w, bias edges
    included), "positive" (every kept weight +w, bias edges included), and "signed_bias_trained" /
    "positive_bias_trained" (the same for ordinary edges, bias edges keep their trained values: in
    a classification net they carry the folded input standardisation). Each: the shared-weight
    profile on training episodes, the best value and its test score."""
    from wann.measures.assess import weight_grid

    grid = weight_grid(DEFAULT_SHARED_WEIGHTS)
    sign = np.sign(net.weights)
    sign[sign == 0] = 1.0
    bias = np.array([c.source == 0 for c in net.genome.connections])
    out = {}
    for name in PROBE_VARIANTS:
        base = sign if name.startswith("signed") else np.ones_like(sign)
        rows = grid[:, None] * base[None, :]
        if name.endswith("bias_trained"):
            rows[:, bias] = net.weights[bias]
        r, _ = executor.evaluate_weights(net.genome, rows, list(range(seed, seed + episodes)))
        prof = r.mean(axis=1)
        best = int(np.argmax(prof))
        test = score(executor, WeightedNetwork(net.genome, rows[best]), test_episodes)
        out[name] = {"grid": grid.tolist(), "profile": prof.tolist(), "best_weight": float(grid[best]), "test": test}
    return out


def dense_layout(task_name: str, n_in: int, n_out: int) -> dict[str, list[int]]:
    """The reference shapes: swing-up 5-10-1 and 5-32-32-1; biped 24-40-40-4; others 1 x 32."""
    if "SwingUp" in task_name:
        return {"dense": [10], "dense_large": [32, 32]}
    if "Bipedal" in task_name:
        return {"dense": [40, 40]}
    return {"dense": [32]}


__all__ = [
    "score",
    "small_dense_width",
    "train_dense",
    "SNAPSHOT_FRACTIONS",
    "snapshot_key",
    "best_shared",
    "tune_wann",
    "grid_episodes",
    "retrain_topology",
    "shared_weight_probe",
    "PROBE_VARIANTS",
    "dense_layout",
]
