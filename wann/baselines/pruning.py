"""Mask machinery of the pruned counterparts (RL and classification): which connections to keep.

A mask is a boolean vector of shape (C,), one entry per genome.connections (in order, bias edges
included); scores are float vectors of the same shape, higher = more worth keeping.

Pruning (Molchanov et al. 2016 and successors) removes connections down to a target count:
- criteria: magnitude |w|, or (RL) the Taylor output-sensitivity form E_s |w * d pi(s)/dw| over
  states visited by the trained policy (`output_sensitivity`; a distillation loss has zero
  gradient at the unpruned point). This is the one function here that runs episodes; the rest are
  pure functions of genomes, masks and scores;
- scores normalised per layer (L2, `normalise_per_layer`) before the global ranking;
- a connection is only removed when every output keeps a path from an input (`prune_to`; no
  layer collapse), and a random sparse mask is drawn the same way from random scores
  (`random_mask`).
"""

from __future__ import annotations

import numpy as np

from wann.genome import Genome
from wann.seeds import derived_rng
from wann.weighted import WeightedNetwork


def layer_ids(genome: Genome) -> np.ndarray:
    """Destination layer of each connection (for per-layer score normalisation)."""
    level = genome.layers()
    return np.array([level[c.destination] for c in genome.connections])


def normalise_per_layer(scores: np.ndarray, layers: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scores divided, layer by layer, by the L2 norm of that layer's kept (masked-in) scores."""
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
    """Observations along the policy's own episodes (real Gymnasium environments), (N, n_in)."""
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
    """The action a policy with outputs `out` takes in a Gymnasium action space: the argmax for
    Discrete, the outputs clipped to the bounds for Box."""
    import gymnasium as gym

    if isinstance(space, gym.spaces.Discrete):
        return int(np.argmax(out))
    return np.clip(out, space.low, space.high).astype(space.dtype)


__all__ = [
    "action_from_outputs",
    "layer_ids",
    "normalise_per_layer",
    "output_sensitivity",
    "prune_to",
    "random_mask",
    "visited_states",
]
