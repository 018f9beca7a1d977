"""The differentiable torch forward pass of any genome (CPU, float64, one thread).

`torch_forward(genome, w, x)` computes the output-node values of `genome` with individual
connection weights ``w`` (C,) -- one per connection of ``genome.connections``, disabled ones
ignored -- on inputs ``x`` (N, n_inputs); it returns (N, n_outputs) float64, differentiable in
``w``. It matches `wann.network` exactly: bias node 1, input nodes the columns of x, every
computed node ``activation(sum_k w_k * source value)`` with the same activation table.

The genome is first compiled into a `_Plan` (`_plan`): nodes grouped by depth level, each
level computed at once from the earlier levels, as one matmul when dense enough
(`DENSE_FRACTION`) or edge by edge otherwise. `torch_log_probs` is its log softmax (N,
n_outputs), with the classification evaluator's treatment of non-finite outputs, and `loss_fn`
the mean cross-entropy in nats on a task split, a callable of the weights (C,) -> scalar
tensor (used by `wann.measures.curvature` for SAM sharpness and the Hessian).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wann import activations
from wann.genome import BIAS, INPUT, Genome


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


@dataclass(frozen=True)
class _Level:
    """One depth level of `n` nodes (ordered by activation id, then node id); `groups` are its
    (activation id, start, stop) column runs. Node values are kept per level (block 0: bias and
    inputs, block d: level d), so level d reads `gather`: (block, columns) pairs whose selected
    columns, concatenated, form its input matrix X.

    Dense levels (`dense` True) are one matmul X @ W, W (X columns, n) with flat entry flat[e]
    receiving w[conn[e]]. Sparse levels go edge by edge: X holds one column per edge, which is
    multiplied by w[conn[e]] and summed into column flat[e] of the level."""

    n: int
    dense: bool
    gather: tuple[tuple[int, Any], ...]
    width: int
    flat: Any
    conn: Any
    groups: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class _Plan:
    levels: tuple[_Level, ...]
    out_gather: tuple[tuple[int, Any], ...]
    out_order: Any


#: a level is computed by a matmul when at least this fraction of its (sources x nodes) matrix
#: is connected, else edge by edge
DENSE_FRACTION = 0.25


def _gather_plan(torch, cols: list[tuple[int, int]], widths: list[int]) -> tuple[tuple[int, Any], ...]:
    """(block, column) pairs, sorted by block -> ((block, column tensor or None), ...); None
    stands for a whole block taken in order (no copy needed)."""
    out: dict[int, list[int]] = {}
    for blk, c in cols:
        out.setdefault(blk, []).append(c)
    return tuple(
        (blk, None if cs == list(range(widths[blk])) else torch.tensor(cs, dtype=torch.long))
        for blk, cs in sorted(out.items())
    )


def _plan(genome: Genome) -> _Plan:
    """Group the nodes by depth level so each level is computed at once from the values of the
    earlier ones (see `_Level`); only enabled connections take part."""
    torch = _torch()
    level = genome.layers()
    act_of = {n.id: n.activation for n in genome.nodes}
    pos = {i: (0, i) for i in range(genome.n_inputs + 1)}  # node id -> (block, column)
    widths = [genome.n_inputs + 1]
    computed = [n.id for n in genome.nodes if n.kind not in (BIAS, INPUT)]
    enabled = [(k, c) for k, c in enumerate(genome.connections) if c.enabled]
    levels = []
    for d in range(1, max(level[i] for i in computed) + 1):
        nodes = sorted((act_of[i], i) for i in computed if level[i] == d)
        if not nodes:
            continue
        blk, n = len(levels) + 1, len(nodes)
        col_of = {nid: j for j, (_, nid) in enumerate(nodes)}
        for nid, j in col_of.items():
            pos[nid] = (blk, j)
        edges = sorted(
            ((k, c) for k, c in enabled if level[c.destination] == d), key=lambda kc: (pos[kc[1].source], kc[0])
        )
        used = sorted({pos[c.source] for _, c in edges})
        dense = len(edges) >= DENSE_FRACTION * max(1, len(used) * n)
        if dense:
            row = {p: j for j, p in enumerate(used)}
            cols, flat = used, [row[pos[c.source]] * n + col_of[c.destination] for _, c in edges]
        else:
            cols, flat = [pos[c.source] for _, c in edges], [col_of[c.destination] for _, c in edges]
        groups, start = [], 0
        for j in range(1, n + 1):
            if j == n or nodes[j][0] != nodes[start][0]:
                groups.append((nodes[start][0], start, j))
                start = j
        levels.append(
            _Level(
                n,
                dense,
                _gather_plan(torch, cols, widths),
                len(cols),
                torch.tensor(flat, dtype=torch.long),
                torch.tensor([k for k, _ in edges], dtype=torch.long),
                tuple(groups),
            )
        )
        widths.append(n)
    outs = [pos[o] for o in genome.output_ids]
    ordered = sorted(range(len(outs)), key=lambda k: outs[k])
    order = torch.empty(len(outs), dtype=torch.long)
    order[torch.tensor(ordered, dtype=torch.long)] = torch.arange(len(outs))
    return _Plan(tuple(levels), _gather_plan(torch, [outs[k] for k in ordered], widths), order)


def _gathered(torch, blocks, gather, n_rows: int, dtype):
    """The columns named by a `_gather_plan`, side by side: (n_rows, total columns)."""
    parts = [blocks[b] if cols is None else blocks[b][:, cols] for b, cols in gather]
    if not parts:
        return torch.zeros(n_rows, 0, dtype=dtype)
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


def _activate(torch, a: int, z):
    """`activations.apply_numpy` in torch (same table, same formulas)."""
    if a == activations.LINEAR:
        return z
    if a == activations.STEP:
        return (z > 0).to(z.dtype)
    if a == activations.SIN:
        return torch.sin(np.pi * z)
    if a == activations.GAUSSIAN:
        return torch.exp(-(z * z) / 2.0)
    if a == activations.TANH:
        return torch.tanh(z)
    if a == activations.SIGMOID:
        return (torch.tanh(z / 2.0) + 1.0) / 2.0
    if a == activations.INVERSE:
        return -z
    if a == activations.ABS:
        return torch.abs(z)
    if a == activations.RELU:
        return torch.clamp_min(z, 0.0)
    if a == activations.COS:
        return torch.cos(np.pi * z)
    raise ValueError(f"unknown activation id {a!r}; known ids are 1..10 ({activations.describe()})")


def _run_plan(plan: _Plan, w, x):
    torch = _torch()
    N = x.shape[0]
    blocks = [torch.cat([torch.ones(N, 1, dtype=x.dtype), x], dim=1)]
    for lv in plan.levels:
        X = _gathered(torch, blocks, lv.gather, N, w.dtype)
        if lv.dense:
            W = torch.zeros(lv.width * lv.n, dtype=w.dtype).index_add(0, lv.flat, w[lv.conn])
            pre = X @ W.reshape(lv.width, lv.n)
        else:
            pre = torch.zeros(N, lv.n, dtype=w.dtype).index_add(1, lv.flat, X * w[lv.conn])
        if len(lv.groups) == 1:
            blocks.append(_activate(torch, lv.groups[0][0], pre))
        else:
            blocks.append(torch.cat([_activate(torch, a, pre[:, s:e]) for a, s, e in lv.groups], dim=1))
    return _gathered(torch, blocks, plan.out_gather, N, w.dtype)[:, plan.out_order]


def _as_tensor(torch, a):
    return a.to(torch.float64) if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a, dtype=np.float64))


def torch_forward(genome: Genome, weights_tensor, x):
    """Output-node values (N, n_outputs) of `genome` with individual weights (C,) (one per
    connection, disabled ones ignored) on inputs x (N, n_inputs), in float64 torch: every computed
    node is activation(sum of w * source value) (bias 1, inputs the columns of x), as in
    `wann.network`. Differentiable in `weights_tensor`."""
    torch = _torch()
    w = _as_tensor(torch, weights_tensor)
    if tuple(w.shape) != (len(genome.connections),):
        raise ValueError(f"weights must have shape ({len(genome.connections)},), got {tuple(w.shape)}")
    return _run_plan(_plan(genome), w, _as_tensor(torch, x))


def _log_softmax(torch, logits):
    """`wann.tasks.classify.log_softmax` in torch: NaN counts as 0, infinities as +-1e30."""
    z = torch.nan_to_num(logits, nan=0.0, posinf=1e30, neginf=-1e30)
    return torch.log_softmax(z, dim=-1)


def torch_log_probs(genome: Genome, weights_tensor, x):
    """Log class probabilities (N, n_outputs): log softmax of `torch_forward`, with the same
    treatment of non-finite outputs as the project's classification evaluator."""
    torch = _torch()
    return _log_softmax(torch, torch_forward(genome, weights_tensor, x))


def loss_fn(task, genome: Genome, split: str = "train") -> Callable[[Any], Any]:
    """A callable weights (C,) tensor -> mean cross-entropy (natural log) on a split of `task`."""
    torch = _torch()
    x, y = task.split(split)
    xt = _as_tensor(torch, x)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    rows = torch.arange(len(yt))
    plan = _plan(genome)

    def loss(w):
        lp = _log_softmax(torch, _run_plan(plan, _as_tensor(torch, w), xt))
        return -lp[rows, yt].mean()

    return loss


def _enabled_index(genome: Genome) -> np.ndarray:
    return np.array([k for k, c in enumerate(genome.connections) if c.enabled], dtype=np.int64)


__all__ = ["DENSE_FRACTION", "torch_forward", "torch_log_probs", "loss_fn"]
