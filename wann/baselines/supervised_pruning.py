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
whole budget.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from wann import activations
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
):
    """The iterative schedule every pruned net and ticket shares (as `rl._iterate`): live counts of
    `pruning.schedule`, ``epochs x n_train`` examples split evenly over the rounds, Adam each
    round, checkpoints at 10/25/50/100 % of the whole budget. Each round's mask comes from
    `criterion` on the previous round's trained model (round 1: the trained dense net), or from
    `masks`; each round starts from the previous round's weights, or from `rewind` (flat,
    unfolded). Returns (TrainResult, final mask)."""
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
        cuts, on_cut = _checkpointing(task, model, total, done, len(x), ck)
        train_examples(model, x, y, b, seed + r, budget, cuts=cuts, on_cut=on_cut)
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


def prune(task, hidden, model, target: int, criterion: str, epochs: int, seed: int, parent: Parent | None = None):
    """Iteratively prune the trained dense `model` (not modified) to exactly `target` live
    connections ('magnitude', 'taylor' or 'taylor_unit'), fine-tuned with Adam each round, for
    exactly ``epochs x n_train`` examples in all. Returns (TrainResult, final mask)."""
    parent = parent or Parent(None, model, None, None)
    res, mask = _iterate(task, hidden, parent, target, epochs, seed, f"pruned_{criterion}", criterion)
    res.info["criterion"] = criterion
    return res, mask


def ticket(task, hidden, parent: Parent, target: int, epochs: int, seed: int, rewind: str = "init"):
    """A lottery ticket: iterative magnitude pruning with every round rewound to the parent's
    initial weights (rewind='init', Frankle & Carbin 2019) or to its weights after
    `REWIND_FRACTION` of training (rewind='early'), on the schedule and budget of `prune`."""
    method = "lottery_ticket" if rewind == "init" else "ticket_late_rewind"
    start = parent.init if rewind == "init" else parent.early
    res, _ = _iterate(task, hidden, parent, target, epochs, seed, method, "magnitude", start)
    res.info["rewind"] = rewind
    return res


def ticket_control(task, hidden, parent: Parent, ticket_result: TrainResult, epochs: int, seed: int):
    """The ticket's control: its masks round by round, each round from one fresh random
    initialisation, on the identical schedule and budget."""
    n = len(ticket_result.network.weights)
    masks = [unpack_mask(h, n) for h in ticket_result.network.meta["masks"]]
    fresh = flat_weights(build_mlp(task.n_inputs, hidden, task.n_outputs, seed + 1_000_003), fold=False)
    res, _ = _iterate(
        task, hidden, parent, int(masks[-1].sum()), epochs, seed, "ticket_random_init", rewind=fresh, masks=masks
    )
    res.info["rewind"] = "fresh random init"
    return res


def retrain_masked(task, hidden, mask: np.ndarray, init: np.ndarray, epochs: int, seed: int, method: str):
    """Train the MLP restricted to `mask` from the flat initial weights `init` for exactly
    ``epochs x n_train`` examples."""
    p0 = time.process_time()
    x, y = task.split("train")
    model = build_mlp(task.n_inputs, hidden, task.n_outputs, seed, x)
    set_flat_weights(model, init)
    apply_mask(model, mask)
    total = int(epochs) * len(x)
    budget, ck = Budget(), []
    cuts, on_cut = _checkpointing(task, model, total, 0, len(x), ck)
    train_examples(model, x, y, total, seed, budget, cuts=cuts, on_cut=on_cut)
    net = _network(task, hidden, model, method)
    info = {"epochs": epochs, "budget_unit": "examples", "cpu_s_recipe": time.process_time() - p0}
    return TrainResult(method, net, _accuracy(task, net), budget, ck, info)


def random_sparse(task, hidden, target: int, epochs: int, seed: int):
    """A random mask of exactly `target` live connections (biases kept while their unit lives),
    trained from initialisation for the whole budget."""
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.RELU)
    mask = random_mask(g0, target, seed, keep=np.array([c.source == 0 for c in g0.connections]))
    init = flat_weights(build_mlp(task.n_inputs, hidden, task.n_outputs, seed), fold=False)
    return retrain_masked(task, hidden, mask, init, epochs, seed, "random_sparse")
