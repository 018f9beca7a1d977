"""Landscape measures of one network: trained nets, WANN champions and pruned masks alike.

Every measure works on a vectorised scorer ``score_rows(rows (P, C) float64) -> (P,) float64``
(higher is better), where row p gives connection k the weight ``rows[p, k]`` (disabled
connections are ignored), so the same code serves RL returns (`rl_scorer`) and classification
accuracy (`classify_scorer`).

- Shared-weight profile (Gaier & Ha 2019): the score along ``w * signs`` for w on a grid; the
  signs of a trained or pruned net, or all ones for a WANN. `profile_summary` reduces it to the
  best weight, the range, the area above the minimum and the half-height width.
- Zeroth-order robustness: ``S(sigma) = R(theta) - E[R(theta + eps)]`` with relative Gaussian
  noise ``eps_k ~ N(0, sigma^2 theta_k^2)`` (zero and pruned weights stay zero). The same
  standard-normal draws are scaled for every sigma (common random numbers).
- 1-D slices along a filter-normalised random direction (Li et al. 2018): per destination neuron
  the direction's incoming vector has the norm of the neuron's incoming weights; bias edges and
  disabled connections get 0.
- Classification only (torch, CPU, one thread): the genome forward in torch (`torch_forward`),
  the cross-entropy (`loss_fn`), SAM sharpness (Foret et al. 2021: one normalised ascent step of
  radius rho) and the top eigenvalue of the loss Hessian w.r.t. the enabled weights (exact, or
  power iteration on Hessian-vector products for large nets).

`landscape` gathers all of it for one network as JSON-ready lists and floats.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wann import activations
from wann.genome import BIAS, INPUT, Genome

ScoreRows = Callable[[np.ndarray], np.ndarray]

#: default grids of `landscape`
SIGMAS = (0.05, 0.1, 0.2, 0.5)
ALPHAS = np.linspace(-1.0, 1.0, 21)
GRID = np.round(np.arange(-3.0, 3.0001, 0.1), 10)


# ---------------------------------------------------------------------------------------------
# scorers
# ---------------------------------------------------------------------------------------------


def rl_scorer(executor, genome: Genome, seeds: Sequence[int]) -> ScoreRows:
    """Mean return over the rollout `seeds` for each weight row; every row sees the same seeds
    (common random numbers)."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("rl_scorer needs at least one rollout seed")

    def score_rows(rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        rewards, _ = executor.evaluate_weights(genome, rows, seeds)
        return np.asarray(rewards, dtype=np.float64).mean(axis=1)

    return score_rows


def classify_scorer(task, genome: Genome, split: str = "train", metric: str = "accuracy") -> ScoreRows:
    """Accuracy on a split for each weight row (`metric="accuracy"`), or the mean log-likelihood
    of the labels, i.e. minus the cross-entropy (`metric="log_likelihood"`)."""
    if metric not in ("accuracy", "log_likelihood"):
        raise ValueError(f"metric must be 'accuracy' or 'log_likelihood', got {metric!r}")
    _, y = task.split(split)

    def score_rows(rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if metric == "accuracy":
            return np.atleast_1d(np.asarray(task.accuracy(genome, conn_weights=rows, split=split), dtype=np.float64))
        lp = task.log_probs(genome, conn_weights=rows, split=split)  # (P, N, classes)
        return lp[:, np.arange(len(y)), y].mean(axis=1)

    return score_rows


# ---------------------------------------------------------------------------------------------
# shared-weight profile
# ---------------------------------------------------------------------------------------------


def shared_weight_profile(score_rows: ScoreRows, signs: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Scores (K,) of the rows ``grid[:, None] * signs[None, :]``."""
    signs = np.asarray(signs, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    return np.asarray(score_rows(grid[:, None] * signs[None, :]), dtype=np.float64)


def _length_above(x: np.ndarray, y: np.ndarray, level: float) -> float:
    """Total length of [x[0], x[-1]] where the piecewise-linear interpolant of y is >= level."""
    total = 0.0
    for x0, x1, y0, y1 in zip(x[:-1], x[1:], y[:-1], y[1:]):
        dx = x1 - x0
        a, b = y0 >= level, y1 >= level
        if a and b:
            total += dx
        elif a or b:
            # one end above: the crossing splits the interval linearly
            t = (level - y0) / (y1 - y0)
            total += dx * (1.0 - t) if b else dx * t
    return float(total)


def profile_summary(grid: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Summary of a shared-weight profile, all plain floats:

    argmax: the grid weight of the best score (the first on ties); max, min;
    area: trapezoid integral of (scores - min) over the grid;
    width_half: total grid length where the linearly interpolated score is >= min + (max-min)/2
    (the whole span for a flat profile);
    peak_fraction: width_half / grid span (1 for a flat profile, small for a narrow peak)."""
    x = np.asarray(grid, dtype=np.float64)
    y = np.asarray(scores, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError(f"grid and scores must be 1-D of the same length, got {x.shape} and {y.shape}")
    hi, lo = float(y.max()), float(y.min())
    span = float(x[-1] - x[0])
    if len(x) == 1:
        return {"argmax": float(x[0]), "max": hi, "min": lo, "area": 0.0, "width_half": 0.0, "peak_fraction": 1.0}
    width = span if hi == lo else _length_above(x, y, lo + 0.5 * (hi - lo))
    return {
        "argmax": float(x[int(np.argmax(y))]),
        "max": hi,
        "min": lo,
        "area": float(np.sum(0.5 * ((y[1:] - lo) + (y[:-1] - lo)) * np.diff(x))),
        "width_half": float(width),
        "peak_fraction": float(width / span) if span > 0 else 1.0,
    }


# ---------------------------------------------------------------------------------------------
# zeroth-order robustness
# ---------------------------------------------------------------------------------------------


def robustness(
    score_rows: ScoreRows, theta: np.ndarray, sigmas: Sequence[float], samples: int = 16, seed: int = 0
) -> dict[str, Any]:
    """S(sigma) = R(theta) - mean_i R(theta + eps_i), eps_ik ~ N(0, sigma^2 theta_k^2).

    One call of `score_rows` scores theta and all len(sigmas) x samples perturbed rows; the same
    standard-normal draws are used for every sigma. Returns {"sigma": [...], "s": [...], "s_sd":
    [...] (SD of the per-sample drops), "base": R(theta), "samples": samples}."""
    theta = np.asarray(theta, dtype=np.float64)
    sig = np.asarray(list(sigmas), dtype=np.float64)
    if samples < 1:
        raise ValueError("samples must be >= 1")
    z = np.random.default_rng(seed).standard_normal((samples, theta.size))
    eps = sig[:, None, None] * z[None, :, :] * np.abs(theta)[None, None, :]  # (n_sigma, samples, C)
    rows = np.concatenate([theta[None, :], (theta[None, None, :] + eps).reshape(-1, theta.size)])
    r = np.asarray(score_rows(rows), dtype=np.float64)
    base = float(r[0])
    drops = base - r[1:].reshape(len(sig), samples)
    sd = drops.std(axis=1, ddof=1) if samples > 1 else np.zeros(len(sig))
    return {
        "sigma": [float(s) for s in sig],
        "s": [float(v) for v in drops.mean(axis=1)],
        "s_sd": [float(v) for v in sd],
        "base": base,
        "samples": int(samples),
    }


# ---------------------------------------------------------------------------------------------
# filter-normalised 1-D slices
# ---------------------------------------------------------------------------------------------


def filter_normalised_direction(genome: Genome, weights: np.ndarray, seed: int = 0) -> np.ndarray:
    """A random Gaussian direction (C,) over the enabled non-bias connections, rescaled per
    destination neuron so that its incoming part has the L2 norm of the neuron's incoming
    weights (bias edges excluded on both sides). Bias edges and disabled connections get 0."""
    w = np.asarray(weights, dtype=np.float64)
    C = len(genome.connections)
    if w.shape != (C,):
        raise ValueError(f"weights must have shape ({C},), got {w.shape}")
    d = np.random.default_rng(seed).standard_normal(C)
    groups: dict[int, list[int]] = {}
    for k, c in enumerate(genome.connections):
        if c.enabled and c.source != 0:
            groups.setdefault(c.destination, []).append(k)
        else:
            d[k] = 0.0
    for idx in groups.values():
        dn = float(np.linalg.norm(d[idx]))
        d[idx] *= float(np.linalg.norm(w[idx])) / dn if dn > 0 else 0.0
    return d


def slice_1d(score_rows: ScoreRows, theta: np.ndarray, direction: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Scores (A,) along theta + alpha * direction."""
    theta = np.asarray(theta, dtype=np.float64)
    direction = np.asarray(direction, dtype=np.float64)
    alphas = np.asarray(alphas, dtype=np.float64)
    return np.asarray(score_rows(theta[None, :] + alphas[:, None] * direction[None, :]), dtype=np.float64)


def slice_summary(alphas: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    """{"at_zero": score at alpha 0, "drop_half": at_zero - mean(score(-0.5), score(0.5)),
    "drop_one": the same at |alpha| = 1}; values between grid points are interpolated linearly,
    a drop is None when the grid does not reach that |alpha| on both sides."""
    a = np.asarray(alphas, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(a)
    a, s = a[order], s[order]

    def at(x: float) -> float | None:
        if x < a[0] - 1e-12 or x > a[-1] + 1e-12:
            return None
        return float(np.interp(x, a, s))

    zero = at(0.0)
    out: dict[str, float | None] = {"at_zero": zero}
    for key, r in (("drop_half", 0.5), ("drop_one", 1.0)):
        lo, hi = at(-r), at(r)
        out[key] = None if zero is None or lo is None or hi is None else float(zero - 0.5 * (lo + hi))
    return out


# ---------------------------------------------------------------------------------------------
# torch: the genome forward, loss, SAM sharpness, Hessian top eigenvalue (classification)
# ---------------------------------------------------------------------------------------------


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


def sam_sharpness(task, genome: Genome, weights: np.ndarray, rho: float = 0.05, split: str = "train") -> dict:
    """SAM sharpness (Foret et al. 2021), one ascent step: e = rho * g / ||g|| with g the loss
    gradient over the enabled connections (disabled entries stay 0); sharpness = L(w + e) - L(w).
    Returns {"loss", "loss_perturbed", "sharpness", "grad_norm", "rho"} as plain floats."""
    torch = _torch()
    f = loss_fn(task, genome, split)
    w = torch.tensor(np.asarray(weights, dtype=np.float64), requires_grad=True)
    loss = f(w)
    (g,) = torch.autograd.grad(loss, w)
    mask = torch.zeros_like(g)
    mask[torch.as_tensor(_enabled_index(genome))] = 1.0
    g = g * mask
    norm = float(g.norm())
    e = rho * g / norm if norm > 0 else torch.zeros_like(g)
    with torch.no_grad():
        lp = float(f(w.detach() + e))
    base = float(loss.detach())
    return {"loss": base, "loss_perturbed": lp, "sharpness": lp - base, "grad_norm": norm, "rho": float(rho)}


def _power(torch, op, n: int, iters: int, gen, tol: float) -> float:
    """Dominant eigenvalue (largest |lambda|, with its sign) of a symmetric operator by power
    iteration with the Rayleigh quotient; stops early when it moves by less than tol relative."""
    u = torch.randn(n, dtype=torch.float64, generator=gen)
    u = u / u.norm()
    lam = 0.0
    for _ in range(max(1, iters)):
        hu = op(u)
        new = float(u @ hu)
        norm = float(hu.norm())
        if norm == 0.0:
            return 0.0
        u = hu / norm
        if abs(new - lam) <= tol * max(abs(new), 1e-30):
            return new
        lam = new
    return lam


def top_hessian_eigenvalue(
    task,
    genome: Genome,
    weights: np.ndarray,
    max_exact: int = 3000,
    iters: int = 50,
    seed: int = 0,
    split: str = "train",
    tol: float = 1e-7,
) -> float:
    """Largest (algebraic) eigenvalue of the Hessian of the cross-entropy w.r.t. the enabled
    weights. Exact (full Hessian + `numpy.linalg.eigvalsh`) up to `max_exact` enabled weights,
    else power iteration on Hessian-vector products; when the dominant eigenvalue is negative a
    second run on H - lambda I finds the top of the spectrum."""
    torch = _torch()
    f = loss_fn(task, genome, split)
    idx = torch.as_tensor(_enabled_index(genome))
    n = int(idx.numel())
    if n == 0:
        return 0.0
    C = len(genome.connections)
    base = torch.as_tensor(np.asarray(weights, dtype=np.float64))

    def loss_of(v):
        return f(torch.zeros(C, dtype=torch.float64).index_copy(0, idx, v))

    v0 = base[idx].clone()
    if n <= max_exact:
        H = torch.autograd.functional.hessian(loss_of, v0).detach().numpy()
        return float(np.linalg.eigvalsh(0.5 * (H + H.T))[-1])
    v = v0.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_of(v), v, create_graph=True)
    if not g.requires_grad:  # the loss is linear in the weights
        return 0.0

    def hvp(u):
        (hu,) = torch.autograd.grad(g, v, grad_outputs=u, retain_graph=True)
        return hu.detach()

    return _top_eigenvalue_power(torch, hvp, n, iters, seed, tol)


def _top_eigenvalue_power(torch, op, n: int, iters: int, seed: int, tol: float) -> float:
    """Largest (algebraic) eigenvalue of a symmetric operator: power iteration finds the dominant
    one; if that is negative, a second run on op - lambda I (whose spectrum is >= 0) finds the
    top of the spectrum."""
    gen = torch.Generator().manual_seed(int(seed))
    lam = _power(torch, op, n, iters, gen, tol)
    if lam < 0:
        lam = lam + _power(torch, lambda u: op(u) - lam * u, n, iters, gen, tol)
    return float(lam)


# ---------------------------------------------------------------------------------------------
# everything for one network
# ---------------------------------------------------------------------------------------------


def _floats(a) -> list[float]:
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def landscape(
    kind: str,
    score_rows: ScoreRows,
    genome: Genome,
    weights: np.ndarray,
    task=None,
    seed: int = 0,
    sigmas: Sequence[float] = SIGMAS,
    alphas: np.ndarray = ALPHAS,
    grid: np.ndarray = GRID,
    samples: int = 16,
) -> dict[str, Any]:
    """All landscape measures of one network (`kind` "rl" or "classify"), JSON-ready:

    profile: the shared-weight profile over `grid` with the signs of `weights` (sign 0 -> +1 on
    enabled connections): {"grid", "scores", "summary"}; robustness (see `robustness`); slice:
    along a filter-normalised direction {"alphas", "scores", "summary"}; for "classify" (needs
    `task`) also "sam" and "hessian_top" on the training split; "seconds" per part.
    Rows scored: len(grid) + 1 + len(sigmas) * samples + len(alphas) (61 + 65 + 21 by default)."""
    if kind not in ("rl", "classify"):
        raise ValueError(f"kind must be 'rl' or 'classify', got {kind!r}")
    if kind == "classify" and task is None:
        raise ValueError("kind 'classify' needs the task (for the loss, SAM and the Hessian)")
    w = np.asarray(weights, dtype=np.float64)
    C = len(genome.connections)
    if w.shape != (C,):
        raise ValueError(f"weights must have shape ({C},), got {w.shape}")
    enabled = np.array([c.enabled for c in genome.connections], dtype=bool)
    signs = np.where(enabled, np.where(w < 0, -1.0, 1.0), 0.0)
    grid = np.asarray(grid, dtype=np.float64)
    alphas = np.asarray(alphas, dtype=np.float64)
    seconds: dict[str, float] = {}
    out: dict[str, Any] = {"kind": kind, "connections": int(enabled.sum()), "parameters": C}

    t = time.perf_counter()
    prof = shared_weight_profile(score_rows, signs, grid)
    out["profile"] = {"grid": _floats(grid), "scores": _floats(prof), "summary": profile_summary(grid, prof)}
    seconds["profile"] = time.perf_counter() - t

    t = time.perf_counter()
    out["robustness"] = robustness(score_rows, w, sigmas, samples=samples, seed=seed)
    seconds["robustness"] = time.perf_counter() - t

    t = time.perf_counter()
    direction = filter_normalised_direction(genome, w, seed=seed)
    sl = slice_1d(score_rows, w, direction, alphas)
    out["slice"] = {"alphas": _floats(alphas), "scores": _floats(sl), "summary": slice_summary(alphas, sl)}
    seconds["slice"] = time.perf_counter() - t

    if kind == "classify":
        t = time.perf_counter()
        out["sam"] = sam_sharpness(task, genome, w)
        seconds["sam"] = time.perf_counter() - t
        t = time.perf_counter()
        out["hessian_top"] = top_hessian_eigenvalue(task, genome, w, max_exact=300, seed=seed)
        seconds["hessian"] = time.perf_counter() - t
    out["seconds"] = {k: float(v) for k, v in seconds.items()}
    return out


__all__ = [
    "rl_scorer",
    "classify_scorer",
    "shared_weight_profile",
    "profile_summary",
    "robustness",
    "filter_normalised_direction",
    "slice_1d",
    "slice_summary",
    "torch_forward",
    "torch_log_probs",
    "loss_fn",
    "sam_sharpness",
    "top_hessian_eigenvalue",
    "landscape",
]
