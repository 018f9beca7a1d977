"""Pruned nets, lottery tickets and random sparse nets on RL tasks: the iterative schedule, on
the CMA-ES engine (`wann.baselines.cmaes`: budgets in episodes, met exactly) and the masks of
`wann.baselines.pruning`, scored on fresh test episodes with the project's own evaluators.

- pruned (`prune`): the fully trained dense net (`rl.train_dense`) pruned iteratively, about 20 %
  of the remaining live connections per round (`pruning.schedule`), each round fine-tuned by
  CMA-ES over the kept weights; the budget is split evenly over the rounds. Criteria: magnitude
  |w| (Han et al. 2015), per-weight Taylor E_s |w * d pi(s)/dw| (output sensitivity: a policy has
  no loss) and unit-level Taylor (Molchanov et al. 2016: hidden units ranked by
  E_s |a * d pi(s)/da|, removed whole);
- tickets (`ticket`): iterative magnitude pruning on the same schedule and budget, every round
  rewound to the dense net's initial weights (Frankle & Carbin 2019) or to its weights after
  `rl.REWIND_FRACTION` of training (late rewinding, Frankle et al. 2019/2020); the control
  replays the ticket's masks from a fresh random initialisation (`ticket_control`);
- random sparse (`random_sparse`): a random live mask of the target count, trained from scratch;
- SNIP (`snip`, Lee et al. 2019): pruning at initialisation, one shot, by connection sensitivity
  at the initial weights; for a policy (no loss) the output-sensitivity Taylor score
  E_s |w * d pi(s)/dw| of the initial net, then trained from those initial weights;
- one-shot pruning at a time in training (`oneshot`): the dense net's snapshot after a fraction
  t of its training (`rl.train_dense` meta["snapshots"]) pruned by magnitude in one shot, then
  fine-tuned from those weights (`pruned_at`) or rewound to the dense net's initial weights and
  retrained (`pruned_at_rewind`).
Init schemes (`wann.baselines.inits`): `random_sparse`, `snip` and `ticket_control` draw their
initial weights by scheme `init` from `init_seed` (None: `seed`); masks, CMA-ES sampling and test
episodes follow `seed`, so a replicate re-draws only the start. init='default' with init_seed
None is bit-identical to the code before schemes existed.
Every pruned, ticket and sparse net holds exactly its target count of live connections
(`wann.weighted.live_mask`) and no dead ones.
"""

from __future__ import annotations

import math

import numpy as np

from wann import activations
from wann.baselines.cmaes import FROM_INIT_SIGMA, Progress, cmaes, fit_masked, init_start, init_weights, score
from wann.baselines.common import Budget, TrainResult
from wann.baselines.inits import check_scheme, genome_init
from wann.baselines.pruning import (
    layer_ids,
    normalise_per_layer,
    normalise_units_per_layer,
    output_sensitivity,
    pack_mask,
    prune_to,
    prune_units,
    random_mask,
    schedule,
    split_budget,
    unit_sensitivity,
    unpack_mask,
)
from wann.errors import ConfigError
from wann.genome import Genome
from wann.weighted import WeightedNetwork, live_mask, mlp_genome, with_mask

#: CMA-ES step size of every round of the iterative schedule (pruned nets and tickets alike)
#: and of one-shot pruned nets fine-tuned from their weights (`oneshot`, no rewind)
ROUND_SIGMA = 0.1


CRITERIA = ("magnitude", "taylor", "taylor_unit")


def next_mask(task, g0: Genome, net: WeightedNetwork, mask: np.ndarray, count: int, criterion: str) -> np.ndarray:
    """One pruning step of the trained `net` (its weights (C,) on the dense genome `g0`) from
    `mask` to `count` live connections. magnitude: |w|; taylor: E_s |w * d pi/dw|
    (`output_sensitivity`); taylor_unit: whole hidden units by E_s |a * d pi/da|
    (`unit_sensitivity`), the last partial unit's worth of edges by |w|. Edge scores are
    normalised per layer (L2), unit scores per layer too, before the global ranking."""
    layers = layer_ids(g0)
    w = net.weights
    if criterion == "magnitude":
        return prune_to(g0, mask, normalise_per_layer(np.abs(w), layers, mask), count)
    if criterion == "taylor":
        return prune_to(g0, mask, normalise_per_layer(output_sensitivity(task, net), layers, mask), count)
    if criterion == "taylor_unit":
        units = normalise_units_per_layer(unit_sensitivity(task, net), g0)
        return prune_units(g0, mask, units, normalise_per_layer(np.abs(w), layers, mask), count)
    raise ValueError(f"unknown pruning criterion {criterion!r}; known: {', '.join(CRITERIA)}")


def _iterate(
    executor,
    task,
    dense: TrainResult,
    target: int,
    budget_episodes: int,
    seed: int,
    method: str,
    criterion: str = "magnitude",
    rewind: np.ndarray | None = None,
    masks: list[np.ndarray] | None = None,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """The iterative schedule every pruned net and ticket shares: the live counts of
    `pruning.schedule` (about 20 % fewer per round), the budget split evenly over the rounds
    (`split_budget`), each round trained by CMA-ES at step size `ROUND_SIGMA` for its share, with
    checkpoints at 10/25/50/100 % of the whole budget. Each round's mask comes from `criterion`
    on the previous round's trained weights (round 1: the trained dense net), or from `masks`
    (the control replays a ticket's masks). Each round starts from the previous round's weights
    (pruning: no rewind) or from `rewind` (C,) (tickets and their control)."""
    g0 = dense.network.genome
    w = dense.network.weights.copy()
    mask = live_mask(g0)
    n0 = int(mask.sum())
    counts = [int(m.sum()) for m in masks] if masks is not None else (schedule(n0, target) or [n0])
    parts = split_budget(budget_episodes, len(counts))
    budget, ck_all, used = Budget(), [], []
    done = 0
    for r, (count, b) in enumerate(zip(counts, parts), start=1):
        if masks is not None:
            mask = masks[r - 1]
        else:
            mask = next_mask(task, g0, WeightedNetwork(with_mask(g0, mask), w), mask, count, criterion)
        used.append(mask.copy())
        start = w if rewind is None else np.asarray(rewind, dtype=np.float64)
        w, budget, ck = cmaes(
            executor,
            with_mask(g0, mask),
            np.where(mask, start, 0.0),
            mask,
            start[mask],
            b,
            seed + r,
            sigma0=ROUND_SIGMA,
            budget=budget,
            progress=progress,
            label=f"{method} round {r}/{len(counts)} ({int(mask.sum())} connections)",
            span=(done, budget_episodes),
        )
        w = np.where(mask, w, 0.0)
        done += b
        ck_all += ck
    meta = {"method": method, "masks": [pack_mask(m) for m in used]}
    net = WeightedNetwork(with_mask(g0, mask), w, meta)
    info = {
        "target": target,
        "rounds": len(counts),
        "counts": [int(m.sum()) for m in used],
        "round_episodes": parts,
        "round_sigma": ROUND_SIGMA,
        "from": dense.method,
    }
    return TrainResult(method, net, score(executor, net, test_episodes), budget, ck_all, info)


def prune(
    executor,
    task,
    dense: TrainResult,
    target: int,
    criterion: str,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """Iterative pruning of the trained dense net to exactly `target` live connections
    ('magnitude', 'taylor' or 'taylor_unit', see `next_mask`), each round fine-tuned by CMA-ES from
    the previous round's weights; exactly `budget_episodes` episodes over all rounds (`_iterate`)."""
    method = f"pruned_{criterion}"
    r = _iterate(
        executor, task, dense, target, budget_episodes, seed, method, criterion, None, None, test_episodes, progress
    )
    r.info["criterion"] = criterion
    return r


def rewind_weights(dense: TrainResult, rewind: str) -> np.ndarray:
    """The weights a ticket rewinds to: the dense net's initial weights ('init') or its weights
    after `REWIND_FRACTION` of its training ('early')."""
    meta = dense.network.meta
    if rewind == "init":
        return np.asarray(meta["init"], dtype=np.float64)
    if "rewind" not in meta:
        raise ConfigError(
            "dense", "the dense parent has no early-training snapshot (trained by an older version); retrain it"
        )
    return np.asarray(meta["rewind"]["weights"], dtype=np.float64)


def ticket(
    executor,
    task,
    dense: TrainResult,
    target: int,
    budget_episodes: int,
    seed: int,
    rewind: str = "init",
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """A lottery ticket by iterative magnitude pruning with rewinding: each round prunes the
    previous round's trained weights by magnitude and rewinds the kept ones to the dense net's
    initial weights (rewind='init', Frankle & Carbin 2019, `lottery_ticket`) or to its weights
    after `REWIND_FRACTION` of training (rewind='early', late rewinding, Frankle et al. 2019/2020,
    `ticket_late_rewind`), then trains them; the same schedule, step size and budget as `prune`."""
    method = "lottery_ticket" if rewind == "init" else "ticket_late_rewind"
    start = rewind_weights(dense, rewind)
    r = _iterate(
        executor, task, dense, target, budget_episodes, seed, method, "magnitude", start, None, test_episodes, progress
    )
    r.info["rewind"] = rewind
    if rewind == "early":
        r.info["rewind_episodes"] = int(dense.network.meta["rewind"]["episodes"])
    return r


def ticket_control(
    executor,
    task,
    dense: TrainResult,
    ticket_result: TrainResult,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
    init: str = "default",
    init_seed: int | None = None,
) -> TrainResult:
    """The ticket's control (`ticket_random_init`): the ticket's masks, round by round, each
    round started from one fresh initialisation (not the dense net's) and trained on the
    identical schedule, step size and budget. The final mask is the ticket's. The fresh weights
    (C,) are drawn on the dense genome by scheme `init` from seed s + 1_000_003, s = `init_seed`
    (None: `seed`); 'default' is `init_weights`, as before schemes existed."""
    check_scheme(init)
    g0 = dense.network.genome
    C = len(dense.network.weights)
    masks = [unpack_mask(h, C) for h in ticket_result.network.meta["masks"]]
    s0 = int(seed if init_seed is None else init_seed)
    fresh = genome_init(g0, init, s0 + 1_000_003, default=lambda: init_weights(C, s0 + 1_000_003))
    target = int(masks[-1].sum())
    r = _iterate(
        executor,
        task,
        dense,
        target,
        budget_episodes,
        seed,
        "ticket_random_init",
        "magnitude",
        fresh,
        masks,
        test_episodes,
        progress,
    )
    r.info.update({"rewind": "fresh random init", "init": init, "init_seed": s0})
    return r


def random_sparse(
    executor,
    task,
    hidden: list[int],
    target: int,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
    init: str = "default",
    init_seed: int | None = None,
) -> TrainResult:
    """A random mask of exactly `target` live connections on the dense shape (`random_mask`,
    from `seed`), trained from scratch by CMA-ES for exactly `budget_episodes` episodes. The
    initial weights (C,) are drawn on the masked genome (He: the sparse net's fan-ins) by scheme
    `init` from `init_seed` (None: `seed`)."""
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.TANH)
    mask = random_mask(g0, target, seed)
    g = with_mask(g0, mask)
    start, s0 = init_start(g, init, seed, init_seed)
    r = fit_masked(executor, g, mask, start, budget_episodes, seed, "random_sparse", test_episodes, progress)
    return _tag(r, init, s0)


def _tag(r: TrainResult, init: str, init_seed: int) -> TrainResult:
    """Record the init scheme and seed in the result's info and its network's meta."""
    r.info.update({"init": init, "init_seed": int(init_seed)})
    r.network.meta.update({"init_scheme": init, "init_seed": int(init_seed)})
    return r


def snip(
    executor,
    task,
    hidden: list[int],
    target: int,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
    init: str = "default",
    init_seed: int | None = None,
) -> TrainResult:
    """SNIP, single-shot network pruning at initialisation (Lee et al. 2019), for a policy: the
    dense MLP (as `random_sparse` builds it) at its initial weights, pruned in one shot to exactly
    `target` live connections by connection sensitivity at initialisation, then trained from
    those initial weights by CMA-ES for exactly `budget_episodes` episodes (`fit_masked`, the
    step size of `random_sparse`).

    Sensitivity: a policy has no loss, so |w * dL/dw| becomes the RL Taylor criterion of the
    pruned nets, E_s |w * d pi(s)/dw| summed over outputs (`pruning.output_sensitivity`,
    normalised per layer, `next_mask` 'taylor'), evaluated on the *initial* weights over states
    the initial policy visits (those few episodes pick the mask, as for the iterative Taylor
    criterion, and are not charged to the budget). Edges whose initial weight is 0 (He bias
    edges) score 0 and go first.

    Initial weights: the dense genome's, by scheme `init`. The mask is SNIP's at the weights of
    seed `seed`; the weights trained are drawn from `init_seed` (None: `seed`), so a replicate
    keeps the seed's SNIP mask and re-draws only the start. info: "criterion": "snip", "target",
    "init", "init_seed"."""
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.TANH)
    w_mask, _ = init_start(g0, init, seed, None)
    full = live_mask(g0)
    mask = next_mask(task, g0, WeightedNetwork(g0, w_mask), full, target, "taylor")
    start, s0 = init_start(g0, init, seed, init_seed)
    g = with_mask(g0, mask)
    r = fit_masked(executor, g, mask, start, budget_episodes, seed, "snip", test_episodes, progress)
    r.info.update({"criterion": "snip", "target": int(target)})
    return _tag(r, init, s0)


def snapshot_weights(dense: TrainResult, at: float) -> np.ndarray:
    """The dense net's weights (C,) after fraction `at` of its training: its meta["snapshots"]
    entry whose key (`rl.snapshot_key`, e.g. "0.25"; any key that parses to the same float
    matches) equals `at`. When there is none, a `ConfigError` (a ValueError) on field "at" names
    the fractions it has."""
    snaps = dense.network.meta.get("snapshots") or {}
    have: dict[float, str] = {}
    for k in snaps:
        try:
            have[float(k)] = k
        except ValueError:
            continue
    for f, k in have.items():
        if math.isclose(f, float(at), rel_tol=1e-9, abs_tol=1e-12):
            return np.asarray(snaps[k], dtype=np.float64)
    listed = ", ".join(have[f] for f in sorted(have)) if have else "none (trained by an older version)"
    raise ConfigError(
        "at",
        f"the dense parent has no snapshot after {float(at):g} of its training; it has: {listed} "
        "(pruning at 0 is random_sparse or snip; retrain the dense net with this snapshot fraction)",
    )


def oneshot(
    executor,
    task,
    dense: TrainResult,
    target: int,
    at: float,
    rewind: bool,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """One-shot magnitude pruning at a time in training: the dense net's weights after fraction
    `at` of its training (`snapshot_weights`; at=1.0: the trained net) pruned by |w| (`next_mask`
    'magnitude', normalised per layer) to exactly `target` live connections, then trained by
    CMA-ES over the kept weights for exactly `budget_episodes` episodes (`fit_masked`).

    rewind=False (`pruned_at`): fine-tuned from the snapshot's weights at step size
    `ROUND_SIGMA`, as a round of iterative pruning. rewind=True (`pruned_at_rewind`): the kept
    weights rewound to the dense net's initial weights (meta["init"]) and trained from there at
    the step size of training from initialisation (`FROM_INIT_SIGMA`, `fit_masked`'s default, as
    `random_sparse`).
    The recipe charges `at` x the parent's cost ("parent_fraction"). info: "prune_at", "rewind",
    "parent_fraction", "target", "criterion", "from", "sigma0", "init" (the parent's scheme)."""
    method = "pruned_at_rewind" if rewind else "pruned_at"
    w_at = snapshot_weights(dense, at)
    g0 = dense.network.genome
    full = live_mask(g0)
    mask = next_mask(task, g0, WeightedNetwork(with_mask(g0, full), w_at), full, target, "magnitude")
    meta = dense.network.meta
    start = np.asarray(meta["init"], dtype=np.float64) if rewind else w_at
    sigma0 = FROM_INIT_SIGMA if rewind else ROUND_SIGMA
    g = with_mask(g0, mask)
    r = fit_masked(executor, g, mask, start, budget_episodes, seed, method, test_episodes, progress, sigma0=sigma0)
    r.info.update(
        {
            "prune_at": float(at),
            "rewind": bool(rewind),
            "parent_fraction": float(at),
            "target": int(target),
            "criterion": "magnitude",
            "from": dense.method,
            "sigma0": sigma0,
            "init": meta.get("init_scheme", "default"),
        }
    )
    r.network.meta.update({"prune_at": float(at), "rewind": bool(rewind)})
    return r


__all__ = [
    "ROUND_SIGMA",
    "CRITERIA",
    "next_mask",
    "prune",
    "rewind_weights",
    "ticket",
    "ticket_control",
    "random_sparse",
    "snip",
    "snapshot_weights",
    "oneshot",
    "FROM_INIT_SIGMA",
]
