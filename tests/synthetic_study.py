"""A synthetic study folder for the analysis tests: study.json plus a results.parquet with every
column of the results table (and the study axes' columns), rows made from numbers the test
chooses, so the truth behind a claim's verdict is known. `load` reads it like a real study."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from wann.analysis.data import StudyData, load
from wann.study.results import COLUMNS

SWINGUP = {"name": "wann/CartPoleSwingUp-v0"}
DIGITS = {"name": "digits"}


def task_meta(label: str, kind: str = "rl", spec: dict | None = None, dense=((32, 32),)) -> dict[str, Any]:
    return {
        "label": label,
        "task": spec or (SWINGUP if kind == "rl" else DIGITS),
        "kind": kind,
        "budget": 1000,
        "epochs": 10,
        "dense": [list(h) for h in dense],
        "search": None,
        "champion": None,
        "left_out": {},
    }


def row(task: str, method: str, seed: int, score: float, variant: str = "-", kind: str = "rl", **kw) -> dict:
    """One final row of the results table with plausible defaults; `variant` gives the size
    (its part before '+' / '@'), `kw` overrides any column."""
    size = "half" if variant == "half" else variant.split("+")[0].split("@")[0]
    if size == "half":
        size = "-"
    rep = 0
    if "+r" in variant:
        rep = int(variant.rsplit("+r", 1)[1].split("@")[0])
    at = float(variant.rsplit("@", 1)[1]) if "@" in variant else math.nan
    init = "default"
    for part in variant.split("@")[0].split("+")[1:]:
        if not part.startswith("r"):
            init = part
    wann = method.startswith("wann")
    search = 500_000 if variant == "half" else 1_000_000
    r: dict[str, Any] = {
        "study": "synthetic",
        "task": task,
        "kind": kind,
        "method": method,
        "seed": int(seed),
        "size": size,
        "size_factor": float(size[:-1]) if size.endswith("x") else math.nan,
        "target_connections": 40 if size.endswith("x") else -1,
        "cell": f"{task}/{method}/{variant}/s{seed}",
        "parent": "",
        "fraction": 1.0,
        "final": True,
        "score": float(score),
        "score_sd": 10.0 if kind == "rl" else math.nan,
        "score_n": 100,
        "episodes": 0 if method in ("wann_best_shared", "wann_random_individual", "wann_random_shared") else 1000,
        "env_steps": 100_000,
        "cpu_s": 1.0,
        "budget_unit": "episodes" if kind == "rl" else "examples",
        "parent_episodes": 1000 if method.startswith("pruned") else 0,
        "parent_env_steps": 100_000 if method.startswith("pruned") else 0,
        "parent_cpu_s": 0.0,
        "total_episodes": 1000,
        "total_env_steps": 100_000 + (100_000 if method.startswith("pruned") else 0),
        "total_cpu_s": 1.0,
        "search_episodes": search // 100 if wann else 0,
        "search_env_steps": search if wann else 0,
        "search_cpu_s": 10.0 if wann else 0.0,
        "connections": 40,
        "hidden_nodes": 5,
        "inputs_used": 4,
        "flops_per_step": 100,
        "latency_us": 5.0,
        "shared_weight": math.nan,
        "shared_signed": math.nan,
        "shared_positive": math.nan,
        "shared_signed_bias_trained": math.nan,
        "shared_positive_bias_trained": math.nan,
        "wall_s": 1.0,
        "variant": variant,
        "init": init,
        "rep": rep,
        "prune_at": at,
    }
    r.update(kw)
    return r


def write_study(
    folder: Path, rows: list[dict], tasks: list[dict], seeds, claims: list[dict] | None = None, **meta
) -> StudyData:
    """Write study.json and results.parquet into `folder` and load it."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": "wann.study/1",
        "name": "synthetic",
        "identity": "0123456789abcdef",
        "source": "synthetic.toml",
        "seeds": list(seeds),
        "sizes": [1.0],
        "tasks": tasks,
        "test_episodes": 100,
        "landscape_episodes": 5,
        **meta,
    }
    if claims is not None:
        doc["claims"] = claims
    (folder / "study.json").write_text(json.dumps(doc))
    cols = list(dict.fromkeys([*COLUMNS, "variant", "init", "rep", "prune_at"]))
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    for c in ("seed", "target_connections", "score_n", "episodes", "env_steps", "rep"):
        df[c] = df[c].astype(np.int64)
    df.to_parquet(folder / "results.parquet")
    return load(folder)


def arms(task: str, kind: str, seeds, scores: dict[str, Any]) -> list[dict]:
    """Rows for several arms: ``scores`` maps ``"method/variant"`` to per-seed scores."""
    out = []
    for spec, ys in scores.items():
        m, v = spec.split("/", 1)
        out += [row(task, m, s, y, v, kind) for s, y in zip(seeds, ys)]
    return out
