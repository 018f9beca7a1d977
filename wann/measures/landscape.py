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
- Classification only (torch, CPU, one thread): SAM sharpness (Foret et al. 2021: one
  normalised ascent step of radius rho) and the top eigenvalue of the loss Hessian w.r.t. the
  enabled weights (exact, or power iteration on Hessian-vector products for large nets), from
  `wann.measures.curvature`; the genome forward in torch and the cross-entropy behind them are
  in `wann.measures.torch_net`.

`landscape` gathers all of it for one network as JSON-ready lists and floats.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from wann.genome import Genome
from wann.measures.curvature import sam_sharpness, top_hessian_eigenvalue
from wann.tasks.base import TaskKind

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
    if kind not in tuple(TaskKind):
        raise ValueError(f"kind must be 'rl' or 'classify', got {kind!r}")
    if kind == TaskKind.CLASSIFY and task is None:
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

    if kind == TaskKind.CLASSIFY:
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
    "landscape",
]
