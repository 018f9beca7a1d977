"""A study's results folder: `study.json`, one JSON document per finished cell, and the tidy table.

    OUT/
      study.json            what the study is (its identity: a hash of everything that changes a
                            cell's numbers), its tasks, seeds and sizes
      study.toml            the study file as run
      cells/<cell>.json     one finished cell (`CellResult`), written atomically
      cells/<cell>.json.failed   the error of a failed cell (retried on the next run)
      results.parquet, results.csv   one row per (cell, method, checkpoint)
      searches/<task>-s<seed>/       the run folder of each WANN search cell

The analysis reads a study only through this module (`StudyDir`, `read_table`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wann.errors import ConfigError
from wann.files import atomic_write_text, read_json, visible_entries
from wann.study.plan import Cell
from wann.study.spec import Study

#: the cell format of this version's recipes; `wann compare` recomputes cells of older formats
#: (their networks were made by other recipes: cell/1 = before the fair counterparts), while
#: `wann report` still reads them
CELL_FORMAT = "wann.cell/2"
READABLE_CELL_FORMATS = ("wann.cell/1", CELL_FORMAT)
STUDY_FORMAT = "wann.study/1"

#: the results table's columns, in order, with their types (pyarrow names)
COLUMNS: dict[str, str] = {
    "study": "string",
    "task": "string",
    "kind": "string",
    "method": "string",
    "seed": "int64",
    "size": "string",  # '1x', '0.5x', a dense width such as '10' or '32-32', or '-'
    # the cell's variant: the size, then '+SCHEME' (a non-base init), '+rN' (replicate N), '@T'
    # (pruned after T of the parent's training); 'half' = the half-budget search's champion
    "variant": "string",
    "init": "string",  # init scheme of the network's initial weights ('default', 'he', 'uniform2')
    "rep": "int64",  # independent initialisation of a fixed structure (0 = the seed's own)
    "prune_at": "float64",  # timed methods: fraction of the parent's training before pruning (else NaN)
    "size_factor": "float64",  # multiple of the champion's connections (NaN when not sized)
    "target_connections": "int64",  # -1 when not sized
    "cell": "string",
    "parent": "string",  # the cell this row's network descends from ('' if none)
    "fraction": "float64",  # of the cell's training budget: 0.1, 0.25, 0.5, 1.0
    "final": "bool",
    "score": "float64",  # mean return (RL) or test accuracy (classification)
    "score_sd": "float64",
    "score_n": "int64",  # test episodes (or test examples) behind `score`
    "episodes": "int64",  # training episodes (classification: examples seen) up to this point
    "env_steps": "int64",
    "cpu_s": "float64",
    "budget_unit": "string",  # what `episodes` counts: RL "episodes", classification "examples" (seen)
    "parent_episodes": "int64",  # every ancestor's training (a ticket: its pruned net and their dense parent)
    "parent_env_steps": "int64",
    "parent_cpu_s": "float64",
    "total_episodes": "int64",  # this row's training plus its ancestors' (the WANN search: search_*)
    "total_env_steps": "int64",
    "total_cpu_s": "float64",
    "search_episodes": "int64",  # the WANN search behind this row's champion (wann_* rows)
    "search_env_steps": "int64",
    "search_cpu_s": "float64",
    "connections": "int64",
    "hidden_nodes": "int64",
    "inputs_used": "int64",
    "flops_per_step": "int64",
    "latency_us": "float64",  # one forward pass of the project's evaluator, one observation
    "shared_weight": "float64",  # the single shared weight a row uses (NaN for trained weights)
    "shared_signed": "float64",  # sparse mask, signs kept, one shared weight: test score
    "shared_positive": "float64",  # sparse mask, all weights one positive shared value
    "shared_signed_bias_trained": "float64",  # the same two probes with the biases kept trained
    "shared_positive_bias_trained": "float64",
    "wall_s": "float64",  # the cell's wall time
}


@dataclass
class CellResult:
    """One finished cell, as `cells/<cell>.json` holds it (format ``wann.cell/2``).

    rows: the cell's rows of the results table (`COLUMNS`). A trained cell also has `primary`
    (its method), `budget` (its training cost), `networks` (method -> ``wann.network/1``),
    `landscape` (method -> landscape measures or None) and `info` (method -> recipe details);
    a search cell has `champion` (a ``wann.genome/1``) and `search_budget`. `extra`: further
    documents by name (the assessment, the structure probe), stored at the top level."""

    cell: str
    identity: str
    rows: list[dict[str, Any]]
    primary: str | None = None
    budget: dict[str, Any] | None = None
    networks: dict[str, Any] | None = None
    landscape: dict[str, Any] | None = None
    info: dict[str, Any] | None = None
    champion: dict[str, Any] | None = None
    search_budget: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    worker: dict[str, Any] = field(default_factory=dict)

    _ORDER = ("primary", "budget", "rows", "networks", "landscape", "info")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"format": CELL_FORMAT, "cell": self.cell, "identity": self.identity}
        if self.primary is None:  # a search cell
            d.update({"rows": self.rows, "champion": self.champion, "search_budget": self.search_budget})
        else:
            d.update({k: getattr(self, k) for k in self._ORDER})
        d.update(self.extra)
        d.update({"wall_s": self.wall_s, "worker": self.worker})
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CellResult:
        if not isinstance(d, dict) or d.get("format") not in READABLE_CELL_FORMATS:
            raise ValueError(f"not a cell document ({', '.join(READABLE_CELL_FORMATS)})")
        known = {f for f in cls.__dataclass_fields__ if f != "extra"} | {"format"}
        return cls(
            **{k: v for k, v in d.items() if k in known and k != "format"},
            extra={k: v for k, v in d.items() if k not in known},
        )


class StudyDir:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.cells = self.path / "cells"
        self.meta = self.path / "study.json"

    def check(self, study: Study) -> None:
        """Refuse a folder that holds another study (or anything else) before any work starts."""
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise ConfigError("out", f"{self.path} is a file; choose a folder for the study's results")
        if self.meta.exists():
            try:
                doc = read_json(self.meta, "out", "study.json")
            except ConfigError as e:
                raise ConfigError(
                    "out",
                    f"{self.meta} is damaged ({e.message}); restore it (its cells are intact) or choose another --out",
                ) from None
            if (
                not isinstance(doc, dict)
                or doc.get("format") != STUDY_FORMAT
                or not isinstance(doc.get("identity"), str)
            ):
                raise ConfigError(
                    "out",
                    f"{self.meta} is damaged (not a {STUDY_FORMAT} document); restore it or choose another --out",
                )
            if doc.get("identity") != study.identity():
                raise ConfigError(
                    "out",
                    f"{self.path} holds results of a different study ({doc.get('name')!r}, other settings); "
                    "nothing was changed: choose another --out, or restore that study's file",
                )
        elif visible_entries(self.path):
            raise ConfigError(
                "out", f"{self.path} is not empty and holds no study; choose another --out (nothing was changed)"
            )

    def start(self, study: Study) -> None:
        self.cells.mkdir(parents=True, exist_ok=True)
        src = Path(study.source).read_text() if study.source and Path(study.source).is_file() else ""
        meta = {
            "format": STUDY_FORMAT,
            "name": study.name,
            "identity": study.identity(),
            "source": study.source,
            "seeds": study.seeds,
            "sizes": study.sizes,
            "tasks": [
                {
                    "label": t.label,
                    "task": t.spec,
                    "kind": t.kind,
                    "budget": t.budget,
                    "epochs": t.epochs,
                    "dense": t.dense,
                    "search": t.search_file,
                    "champion": t.champion_file,
                    "left_out": t.left_out,
                }
                for t in study.tasks
            ],
            "test_episodes": study.test_episodes,
            "landscape_episodes": study.landscape_episodes,
            "inits": study.inits,
            "replicates": study.replicates,
            "prune_times": study.prune_times,
            "half_search": study.half_search,
            "claims": study.claims,
        }
        atomic_write_text(self.meta, json.dumps(meta, indent=1))
        if src:
            atomic_write_text(self.path / "study.toml", src)

    def done(self, identity: str, formats: tuple[str, ...] = (CELL_FORMAT,)) -> dict[str, dict]:
        """The finished cells of the study `identity`, by cell id: those of the current format
        (what `wann compare` may skip), or of any of `formats` (what a report may read)."""
        out = {}
        for f in sorted(self.cells.glob("*.json")) if self.cells.exists() else []:
            try:
                doc = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # a torn file cannot exist (atomic writes), but never trust one
            if doc.get("format") in formats and doc.get("identity") == identity:
                out[doc["cell"]] = doc
        return out

    def write_cell(self, cell: Cell, doc: dict) -> None:
        atomic_write_text(self.cells / cell.file, json.dumps(doc, separators=(",", ":")))
        failed = self.cells / (cell.file + ".failed")
        if failed.exists():
            failed.unlink()

    def write_failure(self, cell: Cell, error: str) -> None:
        atomic_write_text(self.cells / (cell.file + ".failed"), error)


def with_defaults(row: dict[str, Any]) -> dict[str, Any]:
    """A row with the columns older cells lack filled in: the base variant (its size), the
    default init, replicate 0, no prune time."""
    row = dict(row)
    row.setdefault("variant", row.get("size"))
    row.setdefault("init", "default")
    row.setdefault("rep", 0)
    row.setdefault("prune_at", float("nan"))
    return row


def write_table(run_dir: Path, docs: dict[str, dict] | None = None) -> Path:
    """Collect every finished cell's rows into results.parquet and results.csv (atomically)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    sd = StudyDir(run_dir)
    if docs is None:
        meta = json.loads(sd.meta.read_text())
        docs = sd.done(meta["identity"])
    rows = [with_defaults(r) for cid in sorted(docs) for r in docs[cid].get("rows", [])]
    cols = {}
    for name, typ in COLUMNS.items():
        vals = [r.get(name) for r in rows]
        cols[name] = pa.array(vals, type=pa.type_for_alias(typ))
    table = pa.table(cols)
    out = sd.path / "results.parquet"
    tmp = sd.path / ".results.parquet.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, out)
    tmpc = sd.path / ".results.csv.tmp"
    pacsv.write_csv(table, tmpc)
    os.replace(tmpc, sd.path / "results.csv")
    return out


def read_table(run_dir: str | Path) -> dict[str, np.ndarray]:
    """The results table as columns (numpy arrays; strings as object arrays)."""
    import pyarrow.parquet as pq

    p = Path(run_dir) / "results.parquet"
    if not p.exists():
        raise ConfigError("RUN_DIR", f"{p} does not exist; run `wann compare STUDY.toml` first")
    t = pq.read_table(p)
    return {c: np.asarray(t.column(c).to_numpy(zero_copy_only=False)) for c in t.column_names}
