"""Pruned nets, lottery tickets and random sparse nets on classification tasks (torch, CPU): the
iterative schedule on the Adam recipe of `wann.baselines.supervised`, scored by the project's own
evaluator after conversion to a `WeightedNetwork`.

Budget: a number of training examples, ``epochs x`` the training split, met exactly over all
rounds (minibatches of 64, as the dense nets); checkpoints at 10, 25, 50 and 100 % of it.
CPU-seconds: `time.process_time` around the training steps and the pruning scores.

Pruning (`prune`) to a target count of live connections (biases count as connections, as in
genomes, and are never chosen for removal but die with their unit): iterative, about 20 % of the
remaining connections per round (`pruning.schedule`), the budget split evenly over the rounds,
each round fine-tuned with Adam from the previous round's weights. Criteria:
- magnitude |w| (Han et al. 2015);
- taylor: per-example |w * dL/dw| averaged over the training set (a per-weight variant of
  Molchanov et al. 2016; the absolute value is taken per example, since the mean signed gradient
  vanishes at a minimum);
- taylor_unit: Molchanov et al. 2016 proper: hidden units ranked by the mean over examples of
  |a * dL/da| (torch autograd on the training loss), normalised per layer, removed whole; the
  last partial unit's worth of edges by |w|.
Edge scores are normalised per layer (L2) before the global ranking. Masks are applied with
`torch.nn.utils.prune`. Tickets (`ticket`): iterative magnitude pruning on the identical schedule
and budget, every round rewound to the initial weights (Frankle & Carbin 2019) or to the weights
after `supervised.REWIND_FRACTION` of the dense training (late rewinding); the control
(`ticket_control`) replays the ticket's masks from a fresh random initialisation. Random sparse
(`random_sparse`): a random live mask of the same count, trained from initialisation for the
whole budget. SNIP (`snip`, Lee et al. 2019): the mask chosen at initialisation, one shot, by
connection sensitivity |w * dL/dw| on the training split, then trained for the whole budget.
Pruning at a time in training (`oneshot`): the dense parent's weights after a fraction t of its
training, pruned once by magnitude, then fine-tuned from them (``pruned_at``) or rewound to the
parent's initial weights (``pruned_at_rewind``) and trained for the whole budget.

Initial weights of the nets trained from a fresh init (random sparse, SNIP, the ticket's
control) follow an init scheme (`wann.baselines.inits`; ``default``, PyTorch's own, unchanged)
drawn from an init seed (None: the cell's seed), which replicates change while the mask and the
minibatch order stay those of the seed.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from wann import activations
from wann.baselines.cmaes import Progress
from wann.baselines.common import Budget, TrainResult
from wann.baselines.pruning import (
    layer_ids,
    normalise_per_layer,
    normalise_units_per_layer,
    pack_mask,
    prune_to,
    prune_units,
    random_mask,
    schedule,
    split_budget,
    unpack_mask,
)
from wann.baselines.supervised import (
    Parent,
    _accuracy,
    _checkpointing,
    _network,
    _torch,
    apply_mask,
    build_mlp,
    flat_mask,
    flat_weights,
    linears,
    set_flat_weights,
    train_examples,
)
from wann.weighted import live_mask, mlp_genome


def taylor_scores(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-connection E_examples |w * dL/dw| in the flat genome order (bias entries: |b dL/db|)."""
    torch = _torch()
    from torch.func import functional_call, grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss(p, xi, yi):
        out = functional_call(model, (p, buffers), (xi[None],))
        return torch.nn.functional.cross_entropy(out, yi[None])

    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    per_ex = vmap(grad(loss), in_dims=(None, 0, 0))(params, xt, yt)
    parts = []
    for lin in linears(model):
        idx = list(model).index(lin)
        wname = f"{idx}.weight_orig" if hasattr(lin, "weight_orig") else f"{idx}.weight"
        w = params[wname]
        gw = per_ex[wname]
        if hasattr(lin, "weight_mask"):
            w = w * lin.weight_mask
        sw = (w[None] * gw).abs().mean(0).numpy()
        sb = (params[f"{idx}.bias"][None] * per_ex[f"{idx}.bias"]).abs().mean(0).numpy()
        parts.append(np.concatenate([sb[:, None], sw], axis=1).ravel())
    return np.concatenate(parts)


def unit_taylor_scores(
    model, x: np.ndarray, y: np.ndarray, n_in: int, n_out: int, hidden: list[int]
) -> dict[int, float]:
    """Molchanov et al. 2016: per hidden unit, the mean over training examples of |a * dL/da|
    (a: the unit's ReLU output, L: the example's cross-entropy), keyed by genome node id."""
    torch = _torch()
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    h, acts = xt, []
    for m in model:
        h = m(h)
        if isinstance(m, torch.nn.ReLU):
            h.retain_grad()
            acts.append(h)
    model.zero_grad()
    torch.nn.functional.cross_entropy(h, yt, reduction="sum").backward()  # per-example dl_i/da_i
    model.zero_grad()
    out, first = {}, n_in + n_out + 1
    for width, a in zip(hidden, acts):
        s = (a * a.grad).abs().mean(0).detach().numpy()
        out.update({first + j: float(s[j]) for j in range(width)})
        first += width
    return out


def _iterate(
    task,
    hidden,
    parent: Parent,
    target: int,
    epochs: int,
    seed: int,
    method: str,
    criterion: str = "magnitude",
    rewind: np.ndarray | None = None,
    masks: list[np.ndarray] | None = None,
    progress: Progress | None = None,
):
    """The iterative schedule every pruned net and ticket shares (as `rl._iterate`): live counts of
    `pruning.schedule`, ``epochs x n_train`` examples split evenly over the rounds, Adam each
    round, checkpoints at 10/25/50/100 % of the whole budget. Each round's mask comes from
    `criterion` on the previous round's trained model (round 1: the trained dense net), or from
    `masks`; each round starts from the previous round's weights, or from `rewind` (flat,
    unfolded). progress: the training's messages, by round. Returns (TrainResult, final mask)."""
    p0 = time.process_time()
    x, y = task.split("train")
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.RELU)
    layers = layer_ids(g0)
    bias_edges = np.array([c.source == 0 for c in g0.connections])
    model = copy.deepcopy(parent.model)
    mask = live_mask(g0, flat_mask(model))
    counts = (
        [int(m.sum()) for m in masks] if masks is not None else (schedule(int(mask.sum()), target) or [int(mask.sum())])
    )
    total = int(epochs) * len(x)
    parts = split_budget(total, len(counts))
    budget, ck, used, done = Budget(), [], [], 0
    for r, (count, b) in enumerate(zip(counts, parts), start=1):
        t0 = time.process_time()
        if masks is not None:
            mask = masks[r - 1]
        elif criterion == "taylor_unit":
            units = normalise_units_per_layer(
                unit_taylor_scores(model, x, y, task.n_inputs, task.n_outputs, hidden), g0
            )
            edge = normalise_per_layer(np.abs(flat_weights(model, fold=False)), layers, mask)
            edge[bias_edges] = np.inf
            mask = prune_units(g0, mask, units, edge, count)
        else:
            raw = np.abs(flat_weights(model, fold=False)) if criterion == "magnitude" else taylor_scores(model, x, y)
            scores = normalise_per_layer(raw, layers, mask)
            scores[bias_edges] = np.inf  # biases are never chosen (they go with their unit)
            mask = prune_to(g0, mask, scores, count)
        used.append(mask.copy())
        if rewind is not None:
            set_flat_weights(model, rewind)
        apply_mask(model, mask)
        budget.add(0, 0, time.process_time() - t0)
        label = f"{method} round {r}/{len(counts)}"
        cuts, on_cut = _checkpointing(task, model, total, done, len(x), ck, progress, label)
        train_examples(model, x, y, b, seed + r, budget, cuts=cuts, on_cut=on_cut, progress=progress, label=label)
        done += b
    net = _network(task, hidden, model, method)
    net.meta["masks"] = [pack_mask(m) for m in used]
    info = {
        "target": target,
        "rounds": len(counts),
        "counts": [int(m.sum()) for m in used],
        "round_examples": parts,
        "epochs": epochs,
        "budget_unit": "examples",
        "cpu_s_recipe": time.process_time() - p0,
    }
    return TrainResult(method, net, _accuracy(task, net), budget, ck, info), mask


def prune(
    task,
    hidden,
    model,
    target: int,
    criterion: str,
    epochs: int,
    seed: int,
    parent: Parent | None = None,
    progress: Progress | None = None,
):
    """Iteratively prune the trained dense `model` (not modified) to exactly `target` live
    connections ('magnitude', 'taylor' or 'taylor_unit'), fine-tuned with Adam each round, for
    exactly ``epochs x n_train`` examples in all. Returns (TrainResult, final mask)."""
    parent = parent or Parent(None, model, None, None)
    res, mask = _iterate(
        task, hidden, parent, target, epochs, seed, f"pruned_{criterion}", criterion, progress=progress
    )
    res.info["criterion"] = criterion
    return res, mask


def ticket(
    task,
    hidden,
    parent: Parent,
    target: int,
    epochs: int,
    seed: int,
    rewind: str = "init",
    progress: Progress | None = None,
):
    """A lottery ticket: iterative magnitude pruning with every round rewound to the parent's
    initial weights (rewind='init', Frankle & Carbin 2019) or to its weights after
    `REWIND_FRACTION` of training (rewind='early'), on the schedule and budget of `prune`."""
    method = "lottery_ticket" if rewind == "init" else "ticket_late_rewind"
    start = parent.init if rewind == "init" else parent.early
    res, _ = _iterate(task, hidden, parent, target, epochs, seed, method, "magnitude", start, progress=progress)
    res.info["rewind"] = rewind
    return res


def ticket_control(
    task,
    hidden,
    parent: Parent,
    ticket_result: TrainResult,
    epochs: int,
    seed: int,
    init: str = "default",
    init_seed: int | None = None,
    progress: Progress | None = None,
):
    """The ticket's control: its masks round by round, each round from one fresh random
    initialisation (`build_mlp` by the scheme `init`, seeded ``init_seed + 1_000_003``;
    `init_seed` None means `seed`), on the identical schedule and budget."""
    n = len(ticket_result.network.weights)
    masks = [unpack_mask(h, n) for h in ticket_result.network.meta["masks"]]
    base = int(seed) if init_seed is None else int(init_seed)
    fresh = flat_weights(build_mlp(task.n_inputs, hidden, task.n_outputs, base + 1_000_003, init=init), fold=False)
    res, _ = _iterate(
        task,
        hidden,
        parent,
        int(masks[-1].sum()),
        epochs,
        seed,
        "ticket_random_init",
        rewind=fresh,
        masks=masks,
        progress=progress,
    )
    res.info["rewind"] = "fresh random init"
    res.info["init"] = init
    res.info["init_seed"] = base
    return res


def retrain_masked(
    task,
    hidden,
    mask: np.ndarray,
    init: np.ndarray,
    epochs: int,
    seed: int,
    method: str,
    progress: Progress | None = None,
):
    """Train the MLP restricted to `mask` (C,) from the flat (unfolded) initial weights `init`
    (C,) for exactly ``epochs x n_train`` examples (minibatch order from `seed`); progress: the
    training's messages."""
    p0 = time.process_time()
    x, y = task.split("train")
    model = build_mlp(task.n_inputs, hidden, task.n_outputs, seed, x)
    set_flat_weights(model, init)
    apply_mask(model, mask)
    total = int(epochs) * len(x)
    budget, ck = Budget(), []
    cuts, on_cut = _checkpointing(task, model, total, 0, len(x), ck, progress, method)
    train_examples(model, x, y, total, seed, budget, cuts=cuts, on_cut=on_cut, progress=progress, label=method)
    net = _network(task, hidden, model, method)
    info = {"epochs": epochs, "budget_unit": "examples", "cpu_s_recipe": time.process_time() - p0}
    return TrainResult(method, net, _accuracy(task, net), budget, ck, info)


def _init_flat(task, hidden, seed: int, init: str, init_seed: int | None) -> np.ndarray:
    """Flat unfolded initial weights (C,) of the MLP by `build_mlp` (scheme `init`, seed
    `init_seed`, None meaning `seed`)."""
    return flat_weights(
        build_mlp(task.n_inputs, hidden, task.n_outputs, seed, init=init, init_seed=init_seed), fold=False
    )


def random_sparse(
    task,
    hidden,
    target: int,
    epochs: int,
    seed: int,
    init: str = "default",
    init_seed: int | None = None,
    progress: Progress | None = None,
):
    """A random mask of exactly `target` live connections (biases kept while their unit lives;
    drawn from `seed`), trained from initialisation (scheme `init`, seeded `init_seed`, None
    meaning `seed`) for the whole budget."""
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.RELU)
    mask = random_mask(g0, target, seed, keep=np.array([c.source == 0 for c in g0.connections]))
    res = retrain_masked(
        task, hidden, mask, _init_flat(task, hidden, seed, init, init_seed), epochs, seed, "random_sparse", progress
    )
    res.info.update(init=init, init_seed=int(seed) if init_seed is None else int(init_seed))
    return res


def snip_scores(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """SNIP connection sensitivity (Lee et al. 2019) in the flat genome order (C,): |w * dL/dw|
    with L the mean softmax cross-entropy of the whole of (`x` (N, n_in), `y` (N,)) in one
    batch, i.e. |dL/dc| for a multiplicative gate c = 1 on each connection (bias entries
    |b dL/db|, never used for choosing)."""
    torch = _torch()
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(xt), yt).backward()
    parts = []
    for lin in linears(model):
        sw = (lin.weight.detach() * lin.weight.grad).abs().numpy()
        sb = (lin.bias.detach() * lin.bias.grad).abs().numpy()
        parts.append(np.concatenate([sb[:, None], sw], axis=1).ravel())
    model.zero_grad()
    return np.concatenate(parts).astype(np.float64)


def _one_shot_mask(task, hidden, raw: np.ndarray, target: int) -> np.ndarray:
    """A mask of exactly `target` live connections of the full MLP, keeping the highest of the
    scores `raw` (C,) after per-layer L2 normalisation (`pruning.normalise_per_layer`, as every
    criterion here); bias edges are never chosen (they go with their unit)."""
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.RELU)
    full = live_mask(g0, np.ones(len(g0.connections), dtype=bool))
    scores = normalise_per_layer(raw, layer_ids(g0), full)
    scores[np.array([c.source == 0 for c in g0.connections])] = np.inf
    return prune_to(g0, full, scores, target)


def snip(
    task,
    hidden,
    target: int,
    epochs: int,
    seed: int,
    init: str = "default",
    init_seed: int | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """SNIP (Lee et al. 2019): prune the MLP at initialisation, one shot, to exactly `target`
    live connections by connection sensitivity (`snip_scores` on the whole training split,
    normalised per layer), then train the masked net from its initial weights for exactly
    ``epochs x n_train`` examples (`retrain_masked`: the Adam recipe and checkpoints of
    `random_sparse`).

    The mask is the structure of `seed`: scored on the init of scheme `init` drawn from `seed`.
    The start weights are the init of `init` drawn from `init_seed` (None meaning `seed`, the
    weights that were scored); a replicate thus keeps the mask and re-draws only the weights.
    The scoring's CPU-seconds are charged to the budget (no training examples: it is one forward
    and backward pass)."""
    t0 = time.process_time()
    x, y = task.split("train")
    model = build_mlp(task.n_inputs, hidden, task.n_outputs, seed, x, init=init, init_seed=seed)
    mask = _one_shot_mask(task, hidden, snip_scores(model, x, y), target)
    start = flat_weights(model, fold=False) if init_seed is None else _init_flat(task, hidden, seed, init, init_seed)
    score_cpu = time.process_time() - t0
    res = retrain_masked(task, hidden, mask, start, epochs, seed, "snip", progress)
    res.budget.add(0, 0, score_cpu)
    res.network.meta["masks"] = [pack_mask(mask)]
    res.info.update(
        criterion="snip",
        target=target,
        init=init,
        init_seed=int(seed) if init_seed is None else int(init_seed),
        mask_seed=int(seed),
        cpu_s_recipe=res.info["cpu_s_recipe"] + score_cpu,
    )
    return res


def _snapshot(parent: Parent, at: float) -> np.ndarray:
    at = float(at)
    if not 0.0 < at <= 1.0:
        raise ValueError(f"prune time must be in (0, 1], got {at:g}")
    for f, w in parent.snapshots.items():
        if abs(float(f) - at) < 1e-9:
            return w
    have = ", ".join(f"{f:g}" for f in sorted(parent.snapshots) if f > 0)
    raise ValueError(f"the dense parent has no snapshot at {at:g} of its training; it has {have or 'none'}")


def oneshot(
    task,
    hidden,
    parent: Parent,
    target: int,
    at: float,
    rewind: bool,
    epochs: int,
    seed: int,
    progress: Progress | None = None,
) -> TrainResult:
    """One-shot magnitude pruning at a time in training: the parent's weights after fraction `at`
    (in (0, 1]) of its training (`Parent.snapshots`) pruned at once to exactly `target` live
    connections (|w| normalised per layer, as a magnitude round of `prune`; bias edges never
    chosen), then trained under that mask for exactly ``epochs x n_train`` examples with a fresh
    Adam (`retrain_masked`) from the snapshot's weights (rewind False: fine-tuning, method
    ``pruned_at``) or from the parent's initial weights (rewind True: ``pruned_at_rewind``).
    This net needed `at` of the parent's training (``info["parent_fraction"]``)."""
    t0 = time.process_time()
    w = _snapshot(parent, at)
    mask = _one_shot_mask(task, hidden, np.abs(w), target)
    prune_cpu = time.process_time() - t0
    method = "pruned_at_rewind" if rewind else "pruned_at"
    res = retrain_masked(task, hidden, mask, parent.init if rewind else w, epochs, seed, method, progress)
    res.budget.add(0, 0, prune_cpu)
    res.network.meta["masks"] = [pack_mask(mask)]
    res.info.update(
        criterion="magnitude",
        target=target,
        prune_at=float(at),
        rewind=bool(rewind),
        parent_fraction=float(at),
        cpu_s_recipe=res.info["cpu_s_recipe"] + prune_cpu,
    )
    return res
