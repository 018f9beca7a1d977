"""The report's numbers along a study's axes (issue 14), per task, from `StudyData.full`: score
versus prune time (when in the parent's training a mask is chosen), score per init scheme, and
score versus total compute. Each returns [] when the study has no such axis, and the report then
shows no such section; every summary is across seeds (`stats.summarize`: mean, SD, the 95 % CI
of the mean by the t-interval below `stats.T_BELOW` seeds)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from wann.analysis import stats
from wann.analysis.data import HALF, StudyData, dense0, is_base, size_key
from wann.baselines import methods
from wann.baselines.methods import CLASSIFY, DERIVED

#: pruned at initialisation (time 0): the random mask and SNIP
AT_INIT = ("random_sparse", "snip")
#: pruned after a fraction of the dense parent's training
TIMED = ("pruned_at", "pruned_at_rewind")
#: the shared-weight solution of the WANN topology, shown as its third init
SHARED_INIT = "WANN shared weight, tuned"


def _summary(g) -> dict[str, Any]:
    s = stats.summarize(g["score"].to_numpy(dtype=np.float64))
    return {k: s[k] for k in ("n", "mean", "sd", "ci_low", "ci_high")}


def _plain(f):
    """The base rows (`data.is_base`): not replicated, not timed, not the half search, the base
    init scheme. (Selected by the variant, not the `init` column: a method that takes no scheme
    records the one it has.)"""
    return f[f["variant"].map(is_base).astype(bool)]


def _scheme(variant: str, size: str, base: str) -> str | None:
    """The init scheme of a variant of `size` that is neither replicated nor timed: the base
    scheme for the size itself, ``S`` for ``size + "+S"``, None for any other variant."""
    if variant == size:
        return base
    rest = variant[len(size) :] if variant.startswith(size + "+") else ""
    if not rest or "@" in rest or "+" in rest[1:] or re.fullmatch(r"\+r\d+", rest):
        return None
    return rest[1:]


def prune_time_rows(data: StudyData, task: str) -> list[dict[str, Any]]:
    """Score versus prune time at size 1x: ``t = 0`` for the masks chosen at initialisation
    (random sparse, SNIP: their base rows), then ``pruned_at`` and ``pruned_at_rewind`` at each
    prune time t (fraction of the dense parent's training). One row per (method, t): ``method``,
    ``t``, ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``; [] when the study has no timed rows."""
    f = data.full_final[data.full_final["task"] == task]
    timed = f[f["method"].isin(TIMED) & f["prune_at"].notna()]
    timed = timed[timed["variant"].map(lambda v: bool(re.fullmatch(r"1x@[^+@]+", v))).astype(bool)]
    if timed.empty:
        return []
    out = []
    plain = _plain(f)
    for m in AT_INIT:
        g = plain[(plain["method"] == m) & (plain["variant"] == "1x")]
        if not g.empty:
            out.append({"method": m, "t": 0.0, **_summary(g)})
    for m in TIMED:
        g = timed[timed["method"] == m]
        for t in sorted(set(g["prune_at"].astype(float))):
            out.append({"method": m, "t": t, **_summary(g[g["prune_at"] == t])})
    return out


def prune_time_refs(data: StudyData, task: str) -> dict[str, float]:
    """The reference levels of the prune-time plot: the dense parent's mean final score (first
    width) and magnitude pruning's at 1x (pruned after all of the parent's training, then
    trained again), where the study has them."""
    f = _plain(data.full_final[data.full_final["task"] == task])
    out = {}
    for m, v in (("dense", dense0(data, task)), ("pruned_magnitude", "1x")):
        g = f[(f["method"] == m) & (f["variant"] == v)]
        if not g.empty:
            out[m] = float(g["score"].mean())
    return out


def _base_size(data: StudyData, task: str, m: methods.Method) -> str:
    if m.sized:
        return "1x"
    return dense0(data, task) if m.name == "dense" else "-"


def init_rows(data: StudyData, task: str) -> list[dict[str, Any]]:
    """Score per init scheme, per method that takes one (registry ``inits``), at its base size
    (sized: 1x; dense: the first width), not replicated, not timed (the scheme read from the
    variant: the base scheme for the size itself, S for ``size+S``); the WANN topology
    (``wann_retrained``) also gets its own shared-weight solution (``wann_tuned``) as a third
    init, named `SHARED_INIT`. One row per (method, init): ``method``, ``size``, ``init``, ``n``,
    ``mean``, ``sd``, ``ci_low``, ``ci_high``, in the study's init order; [] when the study has
    only one scheme."""
    f = data.full_final[data.full_final["task"] == task]
    order = [str(x) for x in (data.meta.get("inits") or [data.base_init])]
    out = []
    for m in methods.METHODS:
        if not m.inits:
            continue
        size = _base_size(data, task, m)
        g = f[f["method"] == m.name]
        g = g.assign(scheme=g["variant"].map(lambda v, size=size: _scheme(v, size, data.base_init)))
        g = g[g["scheme"].notna()]
        if g.empty:
            continue
        schemes = sorted(set(g["scheme"]), key=lambda s: (order.index(s) if s in order else len(order), s))
        for init in schemes:
            out.append({"method": m.name, "size": size, "init": init, **_summary(g[g["scheme"] == init])})
        if m.name == "wann_retrained":
            t = f[(f["method"] == "wann_tuned") & (f["variant"] == "-")]
            if not t.empty:
                out.append({"method": m.name, "size": size, "init": SHARED_INIT, **_summary(t)})
    if len({r["init"] for r in out if r["init"] != SHARED_INIT}) < 2:
        return []
    counts: dict[str, int] = {}
    for r in out:
        counts[r["method"]] = counts.get(r["method"], 0) + 1
    return [r for r in out if counts[r["method"]] > 1]  # a method under one scheme only compares nothing


def compute_unit(data: StudyData, task: str) -> str:
    """What the compute axis counts on a task."""
    if data.task_kind(task) == CLASSIFY:
        return "training examples processed"
    return "environment steps"


def compute_rows(data: StudyData, task: str) -> list[dict[str, Any]]:
    """Every method's final score against its total compute: RL environment steps of its own
    training and its parents' (``total_env_steps``), classification examples processed (the
    `work` column: examples seen by torch, evaluated by CMA-ES / NEAT, the parents' included),
    plus, for WANN rows, the search behind the champion (``search_env_steps``: steps, or examples
    evaluated). Base rows (sized methods at 1x, dense at every width) and the half-budget search's
    rows (variant ``half``); derived rows left out. One row per (method, variant): ``method``,
    ``variant``, ``compute`` (mean over seeds), ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``."""
    f = data.full_final[data.full_final["task"] == task]
    f = f[f["variant"].map(lambda v: is_base(v) or v == HALF).astype(bool)]
    cls = data.task_kind(task) == CLASSIFY
    out = []
    for m in methods.METHODS:
        if m.role == DERIVED:
            continue
        g = f[f["method"] == m.name]
        if m.sized:
            g = g[g["variant"] == "1x"]
        for v in sorted(set(g["variant"]), key=lambda s: (s == HALF, size_key(s) if s != HALF else (0, 0.0))):
            h = g[g["variant"] == v]
            own = h["work"] if cls else h["total_env_steps"]
            x = (own.astype(float) + h["search_env_steps"].astype(float)).mean()
            if not math.isfinite(x) or x <= 0:
                continue
            out.append({"method": m.name, "variant": v, "compute": float(x), **_summary(h)})
    return out
