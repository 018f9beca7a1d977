"""Trained and pruned counterparts on RL tasks, scored with the project's own evaluators.

Training is CMA-ES (package `cma`; Hansen's reference implementation): full covariance up to 400
parameters, separable (diagonal) above. Each generation all candidates see the same episode seeds
(common random numbers). The network kept is the distribution mean (`xfavorite`), scored on fresh
test episodes at 10, 25, 50 and 100 % of the training budget.

Pruning (Molchanov et al. 2016 and successors) removes connections of a trained dense net down to
a target count, a round at a time, each round followed by CMA-ES fine-tuning of the kept weights:
- magnitude: |w|;  taylor: the output-sensitivity form E_s |w * d pi(s)/dw| over states visited by
  the trained policy (a distillation loss has zero gradient at the unpruned point);
- scores normalised per layer (L2) before the global ranking; a connection is only removed when
  every output keeps a path from an input (no layer collapse);
- lottery ticket: the final magnitude mask, kept weights rewound to their initial values and
  retrained; random sparse: a connectivity-checked random mask of the same count, trained.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cma
import numpy as np

from wann import activations
from wann.baselines.common import CHECKPOINTS, TEST_SEED, Budget, CpuClock, TrainResult, mean_sd
from wann.baselines.networks import WeightedNetwork, mlp_genome, mlp_layer_slices, with_mask
from wann.genome import Genome
from wann.search import derived_rng

Progress = Callable[[str], None]


def score(executor, net: WeightedNetwork, episodes: int = 100, seed: int = TEST_SEED) -> dict[str, float]:
    """Mean +- SD of the return over `episodes` fresh episodes (seeds seed..seed+episodes-1); for
    classification tasks also the test-split accuracy."""
    task = getattr(executor, "task", None)
    if getattr(task, "kind", "rl") == "classify":
        acc = float(task.accuracy(net.genome, conn_weights=net.weights, split="test"))
        return {"accuracy": acc, "mean": acc, "sd": 0.0, "n": len(task.split("test")[1])}
    r, _ = executor.evaluate_weights(net.genome, net.weights[None, :], list(range(seed, seed + episodes)))
    return mean_sd(r[0])


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

    span: (episodes already spent, total episodes) when this call is one stage of a longer
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
    if span is None:
        marks = {max(1, math.ceil(f * generations)): f for f in CHECKPOINTS}
    else:
        offset, total = span
        marks = {}
        for f in CHECKPOINTS:
            g = math.ceil((f * total - offset) / per_gen)
            if f == 1.0 and offset + budget_episodes >= total:
                g = generations
            if 1 <= g <= generations:
                marks[g] = f
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
            s = score(executor, WeightedNetwork(genome, w), checkpoint_episodes, TEST_SEED + 500_000)
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
    result: the shared tail of every 'train this sparse net' method."""
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


# ---- helpers ---------------------------------------------------------------------------------


def small_dense_width(n_in: int, n_out: int, target_connections: int) -> int:
    """Hidden width of a one-layer MLP whose connection count (biases included) is closest to
    the target: h (n_in + 1) + n_out (h + 1)."""
    return max(1, round((target_connections - n_out) / (n_in + 1 + n_out)))


def init_weights(n: int, seed: int) -> np.ndarray:
    return derived_rng(seed, 0, 11).normal(0.0, 0.1, n)


def layer_ids(genome: Genome) -> np.ndarray:
    """Destination layer of each connection (for per-layer score normalisation)."""
    level = genome.layers()
    return np.array([level[c.destination] for c in genome.connections])


def normalise_per_layer(scores: np.ndarray, layers: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = scores.astype(np.float64).copy()
    for lv in np.unique(layers):
        sel = (layers == lv) & mask
        norm = np.linalg.norm(out[sel])
        if norm > 0:
            out[sel] /= norm
    return out


def prune_to(genome: Genome, mask: np.ndarray, scores: np.ndarray, target: int) -> np.ndarray:
    """Remove the lowest-scoring kept connections until `target` remain, skipping any whose
    removal would leave an output without a path from an input. Connections with score +inf are
    never removed.

    Exact and incremental: each node keeps the number of kept in-edges from input-reachable
    sources; a removal that drops a node's count to 0 cascades to its successors, and is undone
    when the cascade reaches an output."""
    mask = mask.copy()
    conns = genome.connections
    src = np.array([c.source for c in conns])
    dst = np.array([c.destination for c in conns])
    n_ids = genome.next_id
    reach = np.zeros(n_ids, dtype=bool)
    reach[1 : genome.n_inputs + 1] = True
    for n in genome.topological_order():
        if not reach[n]:
            reach[n] = bool(np.any(mask & (dst == n) & reach[src]))
    reach_in = np.zeros(n_ids, dtype=np.int64)
    np.add.at(reach_in, dst[mask & reach[src]], 1)
    out_edges: dict[int, list[int]] = {}
    for k, s_ in enumerate(src):
        out_edges.setdefault(int(s_), []).append(k)
    outputs = set(genome.output_ids)
    for k in np.argsort(scores, kind="stable"):
        if mask.sum() <= target or (not np.isfinite(scores[k]) and scores[k] > 0):
            break
        if not mask[k]:
            continue
        if not reach[src[k]]:
            mask[k] = False
            continue
        local: dict[int, int] = {}
        lost: list[int] = []
        stack = [int(dst[k])]
        local[stack[0]] = reach_in[stack[0]] - 1
        if local[stack[0]] == 0:
            lost.append(stack[0])
        else:
            stack = []
        ok = not (lost and lost[0] in outputs)
        while stack and ok:
            n = stack.pop()
            for e in out_edges.get(n, ()):
                if not mask[e] or e == k:
                    continue
                d = int(dst[e])
                local[d] = local.get(d, reach_in[d]) - 1
                if local[d] == 0:
                    if d in outputs:
                        ok = False
                        break
                    lost.append(d)
                    stack.append(d)
        if not ok:
            continue
        mask[k] = False
        for n, v in local.items():
            reach_in[n] = v
        reach[lost] = False
    return mask


def random_mask(genome: Genome, target: int, seed: int, keep: np.ndarray | None = None) -> np.ndarray:
    """A random mask with `target` connections in which every output has a path from an input
    (connections flagged in `keep` are always kept)."""
    rng = derived_rng(seed, 0, 13)
    full = np.ones(len(genome.connections), dtype=bool)
    scores = rng.random(len(full))
    if keep is not None:
        scores[keep] = np.inf
    return prune_to(genome, full, scores, target)


def output_sensitivity(
    task, net: WeightedNetwork, episodes: int = 8, max_states: int = 4000, seed: int = 77
) -> np.ndarray:
    """Taylor scores for policies: E_s |w_e * d pi(s) / d w_e| (summed over outputs) over states
    the policy visits, per connection. Gradients by central differences over all rows at once
    (exact enough for a ranking; the network is small)."""
    states = visited_states(task, net, episodes, max_states, seed)
    from wann.network import compile_genomes, edge_weights_from_connections, forward

    batch = compile_genomes([net.genome])
    cols = np.flatnonzero(net.mask)
    eps = 1e-5
    S = len(states)
    scores = np.zeros(len(net.weights))
    rows = np.zeros(S, dtype=np.int64)
    for k in cols:
        wp, wm = net.weights.copy(), net.weights.copy()
        wp[k] += eps
        wm[k] -= eps
        ew = edge_weights_from_connections(batch, 0, np.stack([wp, wm]))
        op = forward(batch, rows, states, 0.0, np.repeat(ew[:1], S, axis=0))
        om = forward(batch, rows, states, 0.0, np.repeat(ew[1:], S, axis=0))
        grad = (op - om) / (2 * eps)  # (S, n_out)
        scores[k] = np.mean(np.abs(net.weights[k] * grad).sum(axis=1))
    return scores


def visited_states(task, net: WeightedNetwork, episodes: int, max_states: int, seed: int) -> np.ndarray:
    """Observations along the policy's own episodes (real Gymnasium environments)."""
    import gymnasium as gym

    from wann.network import compile_genomes, edge_weights_from_connections, forward

    batch = compile_genomes([net.genome])
    ew = edge_weights_from_connections(batch, 0, net.weights[None, :])
    env = gym.make(task.name, **getattr(task, "env_kwargs", {}))
    states = []
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e)
        for _ in range(task.max_steps):
            obs = np.asarray(obs, dtype=np.float64).reshape(1, -1)
            states.append(obs[0])
            out = forward(batch, np.zeros(1, dtype=np.int64), obs, 0.0, ew)[0]
            obs, _, term, trunc, _ = env.step(action_from_outputs(env.action_space, out))
            if term or trunc or len(states) >= max_states:
                break
        if len(states) >= max_states:
            break
    env.close()
    return np.asarray(states)


def action_from_outputs(space, out: np.ndarray):
    import gymnasium as gym

    if isinstance(space, gym.spaces.Discrete):
        return int(np.argmax(out))
    return np.clip(out, space.low, space.high).astype(space.dtype)


# ---- methods ----------------------------------------------------------------------------------


def train_dense(
    executor,
    task,
    hidden: list[int],
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
    method: str = "dense",
) -> TrainResult:
    """An MLP (tanh hidden, linear outputs) trained with CMA-ES from small random weights."""
    g = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.TANH)
    C = len(g.connections)
    x0 = init_weights(C, seed)
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
    )
    net = WeightedNetwork(g, w, {"method": method, "hidden": hidden, "init": x0.tolist()})
    return TrainResult(
        method, net, score(executor, net, test_episodes), budget, ck, {"hidden": hidden, "parameters": C}
    )


def best_shared(
    executor, task, champion: Genome, episodes: int = 20, seed: int = 5_000_000, test_episodes: int = 100
) -> TrainResult:
    """Grid search of the shared weight on training episodes (-2..2 step 0.1, 0 excluded)."""
    from wann.assess import weight_grid

    clock = CpuClock(executor)
    grid = weight_grid((-2.0, -1.0, -0.5, 0.5, 1.0, 2.0))
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


def tune_wann(
    executor,
    task,
    champion: Genome,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """Individual weights tuned by CMA-ES as offsets from the best shared value."""
    start = best_shared(executor, task, champion)
    w0 = start.network.weights
    free = np.array([c.enabled for c in champion.connections])
    w, budget, ck = cmaes(
        executor,
        champion,
        w0,
        free,
        w0[free],
        budget_episodes,
        seed,
        budget=start.budget,
        progress=progress,
        label="wann_tuned",
        sigma0=0.1,  # fine-tuning offsets around w*, the step size the pruned nets are fine-tuned with
    )
    net = WeightedNetwork(champion, w, {"method": "wann_tuned", "from_shared": start.info["shared_weight"]})
    return TrainResult(
        "wann_tuned", net, score(executor, net, test_episodes), budget, ck, {"from_shared": start.info["shared_weight"]}
    )


def retrain_topology(
    executor,
    task,
    champion: Genome,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """The champion's topology with fresh random weights, trained: is the graph a good ticket?"""
    mask = np.array([c.enabled for c in champion.connections])
    return fit_masked(
        executor,
        champion,
        mask,
        init_weights(len(mask), seed),
        budget_episodes,
        seed,
        "wann_retrained",
        test_episodes,
        progress,
    )


def prune(
    executor,
    task,
    dense: TrainResult,
    target: int,
    criterion: str,
    budget_episodes: int,
    seed: int,
    rounds: int = 3,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """Iterative pruning of a trained dense net to `target` connections ('magnitude' or 'taylor'),
    each round fine-tuned by CMA-ES over the kept weights."""
    g0 = dense.network.genome
    w = dense.network.weights.copy()
    mask = dense.network.mask.copy()
    layers = layer_ids(g0)
    n0 = int(mask.sum())
    budget = Budget()
    ck_all: list[dict] = []
    for r in range(1, rounds + 1):
        count = max(target, round(n0 * (target / n0) ** (r / rounds)))
        net = WeightedNetwork(with_mask(g0, mask), w)
        raw = np.abs(w) if criterion == "magnitude" else output_sensitivity(task, net)
        s = normalise_per_layer(raw, layers, mask)
        mask = prune_to(g0, mask, s, count)
        g = with_mask(g0, mask)
        w, budget, ck = cmaes(
            executor,
            g,
            np.where(mask, w, 0.0),
            mask,
            w[mask],
            budget_episodes // rounds,
            seed + r,
            sigma0=0.1,
            budget=budget,
            progress=progress,
            label=f"{criterion} round {r}/{rounds} ({int(mask.sum())} connections)",
            span=((r - 1) * (budget_episodes // rounds), rounds * (budget_episodes // rounds)),
        )
        ck_all += ck
    net = WeightedNetwork(with_mask(g0, mask), np.where(mask, w, 0.0), {"method": f"pruned_{criterion}"})
    return TrainResult(
        f"pruned_{criterion}",
        net,
        score(executor, net, test_episodes),
        budget,
        ck_all,
        {"target": target, "rounds": rounds, "from": dense.method},
    )


def lottery_ticket(
    executor,
    task,
    dense: TrainResult,
    pruned: TrainResult,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """The pruned mask with kept weights rewound to the dense net's initial values, retrained."""
    init = np.asarray(dense.network.meta["init"])
    return fit_masked(
        executor,
        pruned.network.genome,
        pruned.network.mask,
        init,
        budget_episodes,
        seed,
        "lottery_ticket",
        test_episodes,
        progress,
    )


def random_sparse(
    executor,
    task,
    hidden: list[int],
    target: int,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """A random connectivity-checked mask of `target` connections on the dense shape, trained."""
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.TANH)
    mask = random_mask(g0, target, seed)
    return fit_masked(
        executor,
        with_mask(g0, mask),
        mask,
        init_weights(len(mask), seed),
        budget_episodes,
        seed,
        "random_sparse",
        test_episodes,
        progress,
    )


def shared_weight_probe(
    executor, net: WeightedNetwork, episodes: int = 20, seed: int = 5_000_000, test_episodes: int = 100
) -> dict:
    """A (pruned) mask evaluated WANN-style: every kept weight = sign(w) * one shared value (signs
    kept), and all positive. Returns both shared-weight profiles and the best value's test score."""
    from wann.assess import weight_grid

    grid = weight_grid((-2.0, -1.0, -0.5, 0.5, 1.0, 2.0))
    sign = np.sign(net.weights)
    sign[sign == 0] = 1.0
    out = {}
    for name, base in (("signed", sign), ("positive", np.ones_like(sign))):
        rows = grid[:, None] * base[None, :]
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
    "cmaes",
    "train_dense",
    "best_shared",
    "tune_wann",
    "retrain_topology",
    "prune",
    "lottery_ticket",
    "random_sparse",
    "shared_weight_probe",
    "small_dense_width",
    "mlp_layer_slices",
    "score",
]
