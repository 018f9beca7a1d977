"""Mask machinery of the pruned counterparts (RL and classification): which connections to keep.

A mask is a boolean vector of shape (C,), one entry per genome.connections (in order, bias edges
included); scores are float vectors of the same shape, higher = more worth keeping.

Every mask made here holds live connections only (`wann.weighted.live_mask`: on a path from an
input to an output; a bias edge is live when its node is) and exactly the target count of them:
- `prune_to`: lowest scores first, each removal taking the edges it leaves dead with it, never
  leaving an output unreached, refilled to the target with live edges if a removal overshoots
  (`LiveMask`, `refill`); `random_mask`: the same from random scores;
- `prune_units`: whole hidden units (Molchanov et al. 2016), then edge by edge to the target;
- `schedule`: the live counts of iterative pruning, about 20 % of the remaining per round
  (Han et al. 2015; Frankle & Carbin 2019), and `split_budget` the budget per round;
- criteria for policies (no loss): the per-weight output sensitivity E_s |w * d pi(s)/dw|
  (`output_sensitivity`) and its unit form E_s |a * d pi(s)/da| (`unit_sensitivity`), over
  states visited by the trained policy (a distillation loss has zero gradient at the unpruned
  point). These run episodes; the rest are pure functions of genomes, masks and scores;
- scores normalised per layer (L2, `normalise_per_layer`, `normalise_units_per_layer`) before
  the global ranking.
"""

from __future__ import annotations

import math

import numpy as np

from wann.genome import Genome
from wann.seeds import derived_rng
from wann.weighted import WeightedNetwork, live_mask


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


class LiveMask:
    """A mask that holds live connections only (`wann.weighted.live_mask`), edited incrementally.

    Each node keeps the number of kept non-bias in-edges (all from input-reachable sources, since
    only live edges are kept) and out-edges (all into output-reaching destinations). Removing an
    edge cascades: a node left with no in-edge is no longer reached from an input, so its out-edges
    and bias edge die with it; a node left with no out-edge no longer reaches an output, so its
    in-edges die. A removal that would leave an output unreached is refused. Adding an edge s -> d
    whose s is reached from an input (or is the bias node) and whose d reaches an output adds
    exactly one live edge."""

    def __init__(self, genome: Genome, mask: np.ndarray):
        conns = genome.connections
        self.src = np.array([c.source for c in conns], dtype=np.int64)
        self.dst = np.array([c.destination for c in conns], dtype=np.int64)
        self.bias = self.src == 0
        self.mask = live_mask(genome, mask)
        n = genome.next_id
        self.is_in = np.zeros(n, dtype=bool)
        self.is_in[1 : genome.n_inputs + 1] = True
        self.is_out = np.zeros(n, dtype=bool)
        self.is_out[list(genome.output_ids)] = True
        self.n_in = np.zeros(n, dtype=np.int64)
        self.n_out = np.zeros(n, dtype=np.int64)
        real = self.mask & ~self.bias
        np.add.at(self.n_in, self.dst[real], 1)
        np.add.at(self.n_out, self.src[real], 1)
        self.in_edges: list[list[int]] = [[] for _ in range(n)]
        self.out_edges: list[list[int]] = [[] for _ in range(n)]
        for k, (s_, d) in enumerate(zip(self.src, self.dst)):
            self.in_edges[d].append(k)
            self.out_edges[s_].append(k)
        self.count = int(self.mask.sum())

    def reached(self, node: int) -> bool:
        """On a path from an input (inputs, and nodes with a kept in-edge)."""
        return bool(self.is_in[node] or self.n_in[node] > 0)

    def reaches(self, node: int) -> bool:
        """On a path to an output (outputs, and nodes with a kept out-edge)."""
        return bool(self.is_out[node] or self.n_out[node] > 0)

    def removal(self, edges) -> tuple[set[int], dict, dict] | None:
        """The edges that go if `edges` are removed (they and the ones left dead), with the new
        in/out counts; None when an output would lose its last path from an input."""
        gone: set[int] = set()
        dn_in: dict[int, int] = {}
        dn_out: dict[int, int] = {}
        stack = [int(e) for e in edges if self.mask[e]]
        gone.update(stack)
        while stack:
            e = stack.pop()
            if self.bias[e]:
                continue
            s_, d = int(self.src[e]), int(self.dst[e])
            dn_in[d] = dn_in.get(d, self.n_in[d]) - 1
            if dn_in[d] == 0 and not self.is_in[d]:
                if self.is_out[d]:
                    return None
                for e2 in self.out_edges[d] + self.in_edges[d]:
                    if self.mask[e2] and e2 not in gone:
                        gone.add(e2)
                        stack.append(e2)
            dn_out[s_] = dn_out.get(s_, self.n_out[s_]) - 1
            if dn_out[s_] == 0 and not self.is_out[s_]:
                for e2 in self.in_edges[s_] + self.out_edges[s_]:
                    if self.mask[e2] and e2 not in gone:
                        gone.add(e2)
                        stack.append(e2)
        return gone, dn_in, dn_out

    def commit(self, change: tuple[set[int], dict, dict]) -> None:
        gone, dn_in, dn_out = change
        self.mask[list(gone)] = False
        for n, v in dn_in.items():
            self.n_in[n] = v
        for n, v in dn_out.items():
            self.n_out[n] = v
        self.count -= len(gone)

    def addable(self, e: int) -> bool:
        if self.mask[e]:
            return False
        d = int(self.dst[e])
        if self.bias[e]:
            return self.reached(d) and self.reaches(d)
        return self.reached(int(self.src[e])) and self.reaches(d)

    def add(self, e: int) -> None:
        self.mask[e] = True
        if not self.bias[e]:
            self.n_in[self.dst[e]] += 1
            self.n_out[self.src[e]] += 1
        self.count += 1


def prune_to(genome: Genome, mask: np.ndarray, scores: np.ndarray, target: int) -> np.ndarray:
    """A mask of exactly `target` live connections (`wann.weighted.live_mask`; no dead edges)
    taken from the live part of `mask`, every output keeping a path from an input.

    The lowest-scoring connections go first; a removal also removes the edges it leaves dead, and
    is skipped when it would leave an output unreached or take the count below the target.
    Connections with score +inf are never chosen (they still go when their node dies). If no
    removal fits exactly, the smallest overshoot is taken and the mask refilled to the target with
    the highest-scoring removed connections that are live when added. A target below the smallest
    connected mask gives that mask."""
    lm = LiveMask(genome, mask)
    allowed = lm.mask.copy()
    order = np.argsort(scores, kind="stable")
    chosen = [int(k) for k in order if not (np.isposinf(scores[k]))]
    while lm.count > target:
        progressed, best = False, None
        for k in chosen:
            if lm.count <= target:
                break
            if not lm.mask[k]:
                continue
            ch = lm.removal([k])
            if ch is None:
                continue
            if lm.count - len(ch[0]) >= target:
                lm.commit(ch)
                progressed = True
            elif best is None:
                best = ch
        if lm.count > target and not progressed:
            if best is None:
                break  # nothing can go without disconnecting an output
            lm.commit(best)
            refill(lm, allowed, scores, target)
    return lm.mask


def refill(lm: LiveMask, allowed: np.ndarray, scores: np.ndarray, target: int) -> None:
    """Add back the highest-scoring `allowed` connections that are live when added, up to `target`."""
    for k in np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable"):
        if lm.count >= target:
            break
        if allowed[k] and lm.addable(int(k)):
            lm.add(int(k))


def prune_units(
    genome: Genome, mask: np.ndarray, unit_scores: dict[int, float], edge_scores: np.ndarray, target: int
) -> np.ndarray:
    """Unit pruning (Molchanov et al. 2016): remove whole hidden units, lowest `unit_scores` first
    (a unit goes with all its edges and the edges it leaves dead), while the live count stays at
    or above `target` and every output keeps a path from an input; the remaining gap (less than
    one unit's edges) is removed edge by edge by `edge_scores` (`prune_to`). Returns a mask of
    exactly `target` live connections."""
    lm = LiveMask(genome, mask)
    for node, _ in sorted(unit_scores.items(), key=lambda kv: (kv[1], kv[0])):
        if lm.count <= target:
            break
        edges = [e for e in lm.in_edges[node] + lm.out_edges[node] if lm.mask[e]]
        if not edges:
            continue
        ch = lm.removal(edges)
        if ch is not None and lm.count - len(ch[0]) >= target:
            lm.commit(ch)
    return prune_to(genome, lm.mask, edge_scores, target)


def pack_mask(mask: np.ndarray) -> str:
    """A bool mask as a hex string (bits packed), for a network's meta."""
    return np.packbits(np.asarray(mask, dtype=bool)).tobytes().hex()


def unpack_mask(text: str, n: int) -> np.ndarray:
    """The bool (n,) mask `pack_mask` wrote."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))[:n].astype(bool)


def schedule(n0: int, target: int, rate: float = 0.2) -> list[int]:
    """Live counts after each round of iterative pruning from `n0` to `target`: the fewest rounds
    that remove at most `rate` of the remaining connections each, a constant fraction per round
    (Han et al. 2015; Frankle & Carbin 2019 use 20 %). The last entry is `target`; [] when
    n0 <= target."""
    if n0 <= target:
        return []
    rounds = max(1, math.ceil(math.log(target / n0) / math.log(1.0 - rate) - 1e-9))
    counts = [max(target, round(n0 * (target / n0) ** (r / rounds))) for r in range(1, rounds + 1)]
    counts[-1] = target
    return counts


def split_budget(total: int, parts: int) -> list[int]:
    """`total` split into `parts` integers that differ by at most one and sum to `total`."""
    base, extra = divmod(int(total), parts)
    return [base + (1 if r < extra else 0) for r in range(parts)]


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
        op = forward(batch, rows, states, 0.0, ew[:1], rows)  # rows index the one vector (all 0)
        om = forward(batch, rows, states, 0.0, ew[1:], rows)
        grad = (op - om) / (2 * eps)  # (S, n_out)
        scores[k] = np.mean(np.abs(net.weights[k] * grad).sum(axis=1))
    return scores


def unit_sensitivity(
    task, net: WeightedNetwork, episodes: int = 8, max_states: int = 4000, seed: int = 77
) -> dict[int, float]:
    """Unit-level Taylor scores for policies (Molchanov et al. 2016, output-sensitivity form):
    per live hidden unit h, E_s sum_j |a_h(s) * d pi_j(s) / d a_h| over states the policy
    visits. A policy has no loss, so pi's outputs stand in for it, as in `output_sensitivity`.
    a_h * d pi / d a_h is the derivative of pi with respect to a gain g on the unit's output
    (its out-weights scaled by g) at g = 1, taken here by central differences."""
    states = visited_states(task, net, episodes, max_states, seed)
    from wann.network import compile_genomes, edge_weights_from_connections, forward

    batch = compile_genomes([net.genome])
    live = live_mask(net.genome)
    src = np.array([c.source for c in net.genome.connections])
    eps = 1e-5
    S = len(states)
    rows = np.zeros(S, dtype=np.int64)
    out: dict[int, float] = {}
    for n in net.genome.hidden:
        sel = live & (src == n.id)
        if not sel.any():
            continue
        wp, wm = net.weights.copy(), net.weights.copy()
        wp[sel] *= 1 + eps
        wm[sel] *= 1 - eps
        ew = edge_weights_from_connections(batch, 0, np.stack([wp, wm]))
        op = forward(batch, rows, states, 0.0, ew[:1], rows)  # rows index the one vector (all 0)
        om = forward(batch, rows, states, 0.0, ew[1:], rows)
        out[n.id] = float(np.mean(np.abs((op - om) / (2 * eps)).sum(axis=1)))
    return out


def normalise_units_per_layer(scores: dict[int, float], genome: Genome) -> dict[int, float]:
    """Unit scores divided, layer by layer, by the L2 norm of that layer's scores (Molchanov et al.
    2016 rescale per layer before the global ranking)."""
    level = genome.layers()
    out = dict(scores)
    for lv in {level[n] for n in scores}:
        ids = [n for n in scores if level[n] == lv]
        norm = float(np.linalg.norm([scores[n] for n in ids]))
        if norm > 0:
            for n in ids:
                out[n] = scores[n] / norm
    return out


def visited_states(task, net: WeightedNetwork, episodes: int, max_states: int, seed: int) -> np.ndarray:
    """Observations along the policy's own episodes (real Gymnasium environments), (N, n_in)."""
    import gymnasium as gym

    from wann.network import compile_genomes, edge_weights_from_connections, forward

    batch = compile_genomes([net.genome])
    ew = edge_weights_from_connections(batch, 0, net.weights[None, :])
    env = gym.make(task.name, disable_env_checker=True, **getattr(task, "env_kwargs", {}))
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
    "LiveMask",
    "action_from_outputs",
    "layer_ids",
    "normalise_per_layer",
    "normalise_units_per_layer",
    "output_sensitivity",
    "pack_mask",
    "unpack_mask",
    "prune_to",
    "prune_units",
    "random_mask",
    "refill",
    "schedule",
    "split_budget",
    "unit_sensitivity",
    "visited_states",
]
