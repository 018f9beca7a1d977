"""Run directories: the experiment as run, per-generation metrics, checkpoints, champions.

    RUN_DIR/
      experiment.toml     the experiment exactly as run (overrides applied)
      metrics.csv         one row per finished generation
      checkpoint.json     search state after the last finished generation (written atomically)
      champion.json       best genome so far (JSON genome with meta: task, fitness, generation)
      champions/gen-NNNNN.json   every genome that became the best, when it did

Every file is written atomically (temporary file, fsync, rename), so a killed run leaves each
file either old or new, never half-written. Nothing here loads pickles.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from wann.errors import ConfigError

CHECKPOINT_FORMAT = "wann.checkpoint/1"


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    experiment_file = property(lambda self: self.path / "experiment.toml")
    metrics_file = property(lambda self: self.path / "metrics.csv")
    checkpoint_file = property(lambda self: self.path / "checkpoint.json")
    champion_file = property(lambda self: self.path / "champion.json")
    champions_dir = property(lambda self: self.path / "champions")

    def exists(self) -> bool:
        return self.checkpoint_file.exists() or self.metrics_file.exists()

    # ---- checkpoint ----------------------------------------------------------------------------
    def write_checkpoint(self, state: dict[str, Any], extra: dict[str, Any]) -> None:
        doc = {"format": CHECKPOINT_FORMAT, **extra, "state": state}
        atomic_write_text(self.checkpoint_file, json.dumps(doc, separators=(",", ":")))

    def read_checkpoint(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.checkpoint_file.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError("--resume", f"cannot read {self.checkpoint_file}: {e}") from None
        if doc.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError("--resume", f"{self.checkpoint_file} is not a wann checkpoint")
        return doc

    # ---- metrics -------------------------------------------------------------------------------
    def read_metrics(self) -> list[dict[str, str]]:
        if not self.metrics_file.exists():
            return []
        with self.metrics_file.open(newline="") as f:
            return list(csv.DictReader(f))

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Append one row (header with the first). A row cut short by a kill is dropped by
        `truncate_metrics` on resume, since the checkpoint is written after the row."""
        new = not self.metrics_file.exists() or self.metrics_file.stat().st_size == 0
        if not new:
            with self.metrics_file.open(newline="") as f:
                header = next(csv.reader(f))
            if header != list(row):
                raise ValueError(f"metrics columns changed: {header} -> {list(row)}")
        with self.metrics_file.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow({k: _fmt(v) for k, v in row.items()})
            f.flush()
            os.fsync(f.fileno())

    def truncate_metrics(self, generations: int) -> None:
        """Keep only rows of generations < `generations` (a resumed run redoes the rest)."""
        rows = [
            r
            for r in self.read_metrics()
            if None not in r.values() and r["generation"].isdigit() and int(r["generation"]) < generations
        ]
        self._write_rows(rows)

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        buf = io.StringIO()
        if rows:
            cols = list(rows[0].keys())
            for r in rows[1:]:
                cols += [k for k in r if k not in cols]
            w = csv.DictWriter(buf, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
        atomic_write_text(self.metrics_file, buf.getvalue())

    # ---- champions -----------------------------------------------------------------------------
    def write_champion(self, genome_json: str, generation: int) -> None:
        atomic_write_text(self.champions_dir / f"gen-{generation:05d}.json", genome_json)
        atomic_write_text(self.champion_file, genome_json)


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e-3 or abs(v) >= 1e6 else f"{v:.6f}".rstrip("0").rstrip(".")
    return v
