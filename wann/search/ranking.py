"""NSGA-II ranking (Deb et al. 2002): fast non-dominated sort and crowding distance.

All objectives are maximised. The rank of an individual is its position after sorting by front
(ascending) and, inside a front, by crowding distance (descending); ties keep index order, so the
ranking is a deterministic permutation.
"""

from __future__ import annotations

import numpy as np


def dominates_matrix(f: np.ndarray) -> np.ndarray:
    """D[i, j] is True when i dominates j. `f` has shape (n, k), maximised."""
    ge = (f[:, None, :] >= f[None, :, :]).all(axis=2)
    gt = (f[:, None, :] > f[None, :, :]).any(axis=2)
    return ge & gt


def nondominated_fronts(f: np.ndarray) -> list[np.ndarray]:
    """Split indices 0..n-1 into Pareto fronts; front 0 is non-dominated. `f`: (n, k)."""
    f = np.asarray(f, dtype=np.float64)
    n = f.shape[0]
    dom = dominates_matrix(f)
    dominated_by = dom.sum(axis=0)  # how many individuals dominate j
    fronts = []
    remaining = np.ones(n, dtype=bool)
    current = np.flatnonzero(dominated_by == 0)
    while current.size:
        fronts.append(current)
        remaining[current] = False
        dominated_by = dominated_by - dom[current].sum(axis=0)
        current = np.flatnonzero(remaining & (dominated_by == 0))
    return fronts


def crowding_distance(f: np.ndarray) -> np.ndarray:
    """Textbook crowding distance of each row of `f` (n, k) inside one front.

    Boundary points of every objective get +inf; interior points add the normalised gap between
    their neighbours, (f[next] - f[prev]) / (f_max - f_min), summed over objectives. An objective
    with zero range contributes nothing."""
    f = np.asarray(f, dtype=np.float64)
    n, k = f.shape
    d = np.zeros(n)
    if n <= 2:
        d[:] = np.inf
        return d
    for m in range(k):
        order = np.argsort(f[:, m], kind="stable")
        vals = f[order, m]
        span = vals[-1] - vals[0]
        d[order[0]] = d[order[-1]] = np.inf
        if span > 0:
            d[order[1:-1]] += (vals[2:] - vals[:-2]) / span
    return d


def nsga_rank(f: np.ndarray) -> np.ndarray:
    """Indices of the individuals from best to worst: by front, then by crowding distance
    (larger first), then by index. `f`: (n, k) objectives, maximised. Returns a permutation."""
    f = np.asarray(f, dtype=np.float64)
    front_of = np.empty(f.shape[0], dtype=np.int64)
    crowd = np.empty(f.shape[0])
    for r, idx in enumerate(nondominated_fronts(f)):
        front_of[idx] = r
        crowd[idx] = crowding_distance(f[idx])
    # lexsort: last key is primary
    return np.lexsort((np.arange(f.shape[0]), -crowd, front_of))


def wann_objectives(mean: np.ndarray, best: np.ndarray, connections: np.ndarray, use_connections: bool) -> np.ndarray:
    """The paper's objective pairs: (mean, 1/connections) or (mean, max). Shapes (n,) -> (n, 2)."""
    second = 1.0 / np.maximum(connections, 1) if use_connections else best
    return np.stack([mean, second], axis=1).astype(np.float64)
