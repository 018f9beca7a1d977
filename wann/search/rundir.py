"""Run directories: the experiment as run, per-generation metrics, checkpoints, champions.

    RUN_DIR/
      experiment.toml     the experiment exactly as run (overrides applied)
      metrics.csv         one row per finished generation
      checkpoint.json     search state after the last finished generation (written atomically)
      champion.json       best genome so far (JSON genome with meta: task, fitness, generation)
      champions/gen-NNNNN.json   every genome that became the best, when it did

      .wann.lock          while a command writes into the folder (see `wann.files.FolderLock`)

Every file is written atomically (temporary file, fsync, rename), so a killed run leaves each
file either old or new, never half-written; `metrics.csv` is appended one fsynced row at a time
and cut back to the checkpoint's generation on resume. Nothing here loads pickles.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from wann.errors import ConfigError
from wann.files import atomic_write_text, read_text

__all__ = ["CHECKPOINT_FORMAT", "RunDir", "atomic_write_text"]

CHECKPOINT_FORMAT = "wann.checkpoint/1"
#: files a run writes (anything else in a run folder was not made by `wann search`)
RUN_FILES = ("experiment.toml", "metrics.csv", "checkpoint.json", "champion.json", "champions")


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
        """The checkpoint document; ConfigError("--resume") when it is unreadable or damaged."""
        text = read_text(self.checkpoint_file, "--resume", "checkpoint")
        damaged = (
            f"{self.checkpoint_file} is damaged ({{}}); it cannot be resumed. Restore it from a backup, "
            "or start a new run in another --out (nothing was changed)"
        )
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError("--resume", damaged.format(f"not JSON: {e.msg} at line {e.lineno}")) from None
        except RecursionError:
            raise ConfigError("--resume", damaged.format("nested too deeply")) from None
        if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError("--resume", f"{self.checkpoint_file} is not a wann checkpoint ({CHECKPOINT_FORMAT})")
        if not isinstance(doc.get("state"), dict):
            raise ConfigError("--resume", damaged.format("no search state"))
        return doc

    # ---- metrics -------------------------------------------------------------------------------
    def read_metrics(self) -> list[dict[str, str]]:
        if not self.metrics_file.exists():
            return []
        text = read_text(self.metrics_file, "--resume", "metrics file")
        try:
            return list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as e:
            raise ConfigError(
                "--resume", f"{self.metrics_file} is damaged ({e}); restore it or start a new run"
            ) from None

    def finished_generations(self) -> int:
        """How many generations 0, 1, 2, ... have a complete row in metrics.csv, in order."""
        n = 0
        for r in self.read_metrics():
            if None in r.values() or r.get("generation") != str(n):
                break
            n += 1
        return n

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Append one row (header with the first). A row cut short by a kill is dropped by
        `truncate_metrics` on resume, since the checkpoint is written after the row. When the
        columns differ from the file's (a file from an older version), the file is rewritten once
        with the union of both, atomically."""
        new = not self.metrics_file.exists() or self.metrics_file.stat().st_size == 0
        if not new:
            with self.metrics_file.open(newline="") as f:
                header = next(csv.reader(f), [])
            if header != list(row):
                rows = self.read_metrics()
                self._write_rows([{k: _fmt(v) for k, v in row.items()}] if not rows else rows + [row])
                return
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
            w.writerows({k: _fmt(v) for k, v in r.items()} for r in rows)
        atomic_write_text(self.metrics_file, buf.getvalue())

    # ---- champions -----------------------------------------------------------------------------
    def write_champion(self, genome_json: str, generation: int) -> None:
        atomic_write_text(self.champions_dir / f"gen-{generation:05d}.json", genome_json)
        atomic_write_text(self.champion_file, genome_json)


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e-3 or abs(v) >= 1e6 else f"{v:.6f}".rstrip("0").rstrip(".")
    return v
