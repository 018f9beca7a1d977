"""A study's results as the report reads them: `load(run_dir)` -> `StudyData` (the tidy table
`results.parquet` with a training-work column and the structure-probe rows, plus the finished
cells' documents), and the small keys every part of the report shares (task order, size order,
the first dense width).

A study's cells vary along axes besides the size (issue 14): the init scheme, the replicate of a
fixed structure's initial weights, the prune time of a timed method and the half-budget WANN
search. A row's `variant` names its cell's place on them: the size label, then ``+{init}`` when
the init is not the study's base scheme, then ``+r{rep}`` for a replicate, then ``@{t:g}`` for a
timed method; ``half`` for the assessment of the half-budget search champion. The *base* rows
(`is_base`: no ``+``, no ``@``, not ``half``) are the study as it was before those axes:
`StudyData.df` holds only them, so every table, comparison and plot of that study reads exactly
what it read before; `StudyData.full` holds every row. A table written before the axes existed
gets them filled (`with_axes`): variant = size, init = "default", rep = 0, prune_at = NaN."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wann.baselines.methods import CLASSIFY
from wann.errors import ConfigError

#: the structure probe of each pruned-magnitude net, reported as rows of their own:
#: report row -> the table column that holds its score
PROBE_ROWS = {
    "pruned_shared_signed": "shared_signed",
    "pruned_shared_positive": "shared_positive",
    "pruned_shared_signed_bias_trained": "shared_signed_bias_trained",
    "pruned_shared_positive_bias_trained": "shared_positive_bias_trained",
}


#: the columns the study axes added to the results table, with the value an older table gets
#: (`variant`'s is the row's size)
AXIS_COLUMNS = {"variant": None, "init": "default", "rep": 0, "prune_at": float("nan")}
#: the variant of the half-budget WANN search's assessment rows
HALF = "half"


def is_base(variant: str) -> bool:
    """Whether a row of this variant belongs to the study without its axes: no init scheme other
    than the base one, no replicate, no prune time, not the half-budget search."""
    return "+" not in variant and "@" not in variant and variant != HALF


def with_axes(df):
    """`df` with the axis columns (`AXIS_COLUMNS`), filled where an older table lacks them:
    variant = size, init = "default", rep = 0, prune_at = NaN. Returns a new frame."""
    df = df.copy()
    if "variant" not in df.columns:
        df["variant"] = df["size"].astype(str)
    if "init" not in df.columns:
        df["init"] = "default"
    if "rep" not in df.columns:
        df["rep"] = np.zeros(len(df), dtype=np.int64)
    if "prune_at" not in df.columns:
        df["prune_at"] = np.full(len(df), np.nan)
    return df


@dataclass
class StudyData:
    """A study as the report reads it.

    df: the base rows (`is_base`) of results.parquet plus the structure-probe rows, one row per
    (cell, method, checkpoint), every column of `wann.study.results.COLUMNS` plus `work` (training
    work: RL episodes, classification examples processed, the parent's included). full: every
    row, base and variant (None at construction: then `df` is taken as every row and split).
    extended: the table came with the axis columns (a study planned with the axes; set from `df`
    when `full` is None)."""

    run_dir: Path
    meta: dict[str, Any]
    df: Any  # pandas.DataFrame: the base rows
    cells: dict[str, dict]
    full: Any = None  # pandas.DataFrame: every row
    extended: bool = False

    def __post_init__(self):
        if self.full is None:
            self.extended = "variant" in self.df.columns
            self.full = with_axes(self.df)
            self.df = self.full[self.full["variant"].map(is_base).astype(bool)]

    @property
    def final(self):
        """The base rows at the end of training."""
        return self.df[self.df["final"]]

    @property
    def full_final(self):
        """Every row (base and variant) at the end of training."""
        return self.full[self.full["final"]]

    @property
    def claims(self) -> list[dict[str, Any]]:
        """The pre-registered claims of study.json (``"claims"``), [] for a study without."""
        return list(self.meta.get("claims") or [])

    @property
    def base_init(self) -> str:
        """The study's base init scheme (the first of study.json's ``"inits"``)."""
        inits = self.meta.get("inits") or ["default"]
        return str(inits[0])

    def task_kind(self, task: str) -> str:
        return next(t["kind"] for t in self.meta["tasks"] if t["label"] == task)

    def metric(self, task: str) -> str:
        return "test accuracy" if self.task_kind(task) == CLASSIFY else "mean return"


def load(run_dir: str | Path) -> StudyData:
    import pandas as pd

    from wann.files import read_json
    from wann.study.results import READABLE_CELL_FORMATS, StudyDir

    sd = StudyDir(Path(run_dir))
    if not sd.path.is_dir() or not sd.meta.exists():
        raise ConfigError("RUN_DIR", f"{run_dir} holds no study (no study.json); give a `wann compare` results folder")
    meta = read_json(sd.meta, "RUN_DIR", "study.json")
    if not isinstance(meta, dict) or not all(k in meta for k in ("identity", "name", "seeds", "sizes", "tasks")):
        raise ConfigError("RUN_DIR", f"{sd.meta} is damaged (not a `wann compare` study.json); restore it")
    table = sd.path / "results.parquet"
    if not table.exists():
        raise ConfigError("RUN_DIR", f"{table} does not exist: no cell has finished yet")
    try:
        df = pd.read_parquet(table)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise ConfigError(
            "RUN_DIR", f"{table} is damaged ({type(e).__name__}); rerun `wann compare` on the study to rewrite it"
        ) from None
    missing = [c for c in ("task", "kind", "method", "seed", "final", "score", "episodes") if c not in df.columns]
    if missing:
        raise ConfigError(
            "RUN_DIR", f"{table} lacks columns {missing}; rerun `wann compare` on the study to rewrite it"
        )
    cells = sd.done(meta["identity"], READABLE_CELL_FORMATS)
    # training work in one unit per task: RL episodes; classification examples processed (the
    # torch counterparts count examples seen, CMA-ES / NEAT one minibatch of examples per evaluation)
    cls = df["kind"] == CLASSIFY
    df["work"] = np.where(cls & (df["env_steps"] > 0), df["env_steps"], df["episodes"]) + df["parent_episodes"]
    df = _with_probe_rows(df)
    return StudyData(sd.path, meta, df, cells)


def _with_probe_rows(df):
    """The structure probe of each pruned-magnitude net as rows of its own (final only)."""
    import pandas as pd

    base = df[(df["method"] == "pruned_magnitude") & df["final"]]
    extra = []
    for name, col in PROBE_ROWS.items():
        if col not in base.columns:  # a table from before that probe existed
            continue
        r = base.copy()
        r["method"] = name
        r["score"] = r[col]
        r["score_sd"] = np.nan
        r["parent"] = base["cell"]
        extra.append(r[r["score"].notna()])
    return pd.concat([df, *extra], ignore_index=True)


def tasks(data: StudyData) -> list[str]:
    """The study's task labels that have rows, in the study's order."""
    return [t["label"] for t in data.meta["tasks"] if t["label"] in set(data.df["task"])]


def size_key(s: str) -> tuple:
    """Sort key of a size: "-" (unsized) first, then "0.5x" < "1x" < ..., then dense widths by total."""
    if s.endswith("x"):
        return (1, float(s[:-1]))
    if s == "-":
        return (0, 0.0)
    return (2, sum(int(x) for x in s.split("-")))


def dense_label(h) -> str:
    """A dense net's hidden widths as its size label: [32, 32] -> "32-32"."""
    return "-".join(map(str, h))


def dense0(data: StudyData, task: str) -> str:
    """The size label of a task's first dense width (the pruned nets' parent)."""
    return dense_label(next(t["dense"][0] for t in data.meta["tasks"] if t["label"] == task))
