"""The files of an island run, and checking one before it is resumed.

    RUN_DIR/
      experiment.toml, champion.json, champions/   as for one population (`wann.search.rundir`)
      metrics.csv              one row per island per generation (an ``island`` column)
      migrations.csv           one row per migration (epoch boundary)
      islands/island-K.json    island K's search state at the last epoch's end, and the one before
      checkpoint.json          written last at every epoch's end: the generation all islands reached

Every file is written atomically (`wann.files`). The driver writes them all, from the states
its islands return, so a cluster needs no shared file system. Order at an epoch's end: the
island files, the champion, the metrics rows, the migration row, then checkpoint.json; a kill at
any point leaves a resumable folder: each island file also keeps the state before its latest
one, so it always holds the state at checkpoint.json's generation, and rows after that
generation are cut on resume.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wann.errors import ConfigError
from wann.files import atomic_write_text, read_text
from wann.genome import Genome
from wann.search.experiment import experiment_identity
from wann.search.island_settings import island_sizes
from wann.search.search import SearchState
from wann.tasks import task_from_spec

ISLAND_FORMAT = "wann.island/1"
MODE = "islands"
MIGRATION_COLUMNS = (
    "generation",
    "epoch",
    "topology",
    "moved",
    "routes",
    "best_migrant_fitness",
    "best_migrant_from",
    "mean_migrant_fitness",
    "mean_replaced_fitness",
    "kept",
)


@dataclass(frozen=True)
class IslandsState:
    """Where an island run stands: the generation every island reached, their states, and the
    run's champion as last chosen (at an epoch's end)."""

    generation: int
    states: tuple[SearchState, ...]
    champion: Genome | None = None


def island_file(run_path: Path, k: int) -> Path:
    return Path(run_path) / "islands" / f"island-{k}.json"


def migrations_file(run_path: Path) -> Path:
    return Path(run_path) / "migrations.csv"


def write_island(
    run_path: Path, k: int, seed: int, experiment_id: str, now: tuple[int, dict], before: tuple[int, dict] | None
) -> None:
    """islands/island-K.json: the state at generation now[0] and the one before (or null)."""
    doc = {
        "format": ISLAND_FORMAT,
        "island": k,
        "seed": seed,
        "experiment_id": experiment_id,
        "generation": now[0],
        "state": now[1],
        "previous": None if before is None else {"generation": before[0], "state": before[1]},
    }
    atomic_write_text(island_file(run_path, k), json.dumps(doc, separators=(",", ":")))


def append_migration(run_path: Path, row: dict[str, Any]) -> None:
    """One row of migrations.csv (header with the first), appended and fsynced."""
    f = migrations_file(run_path)
    new = not f.exists() or f.stat().st_size == 0
    with f.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(MIGRATION_COLUMNS))
        if new:
            w.writeheader()
        w.writerow({k: row.get(k, "") for k in MIGRATION_COLUMNS})
        fh.flush()
        os.fsync(fh.fileno())


def read_migrations(run_path: Path) -> list[dict[str, str]]:
    f = migrations_file(run_path)
    if not f.exists():
        return []
    return list(csv.DictReader(io.StringIO(read_text(f, "resume", "migrations file"), newline="")))


def truncate_migrations(run_path: Path, generations: int) -> None:
    """Keep the migrations of generations < `generations` (a resumed run redoes the rest)."""
    if not migrations_file(run_path).exists():
        return
    keep = [r for r in read_migrations(run_path) if r.get("generation", "").isdigit()]
    keep = [r for r in keep if int(r["generation"]) < generations]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(MIGRATION_COLUMNS))
    w.writeheader()
    w.writerows({k: r.get(k, "") for k in MIGRATION_COLUMNS} for r in keep)
    atomic_write_text(migrations_file(run_path), buf.getvalue())


def _damaged(path: Path, why: str) -> ConfigError:
    return ConfigError(
        "resume",
        f"{path} is damaged ({why}); restore it from a backup, or start a new run in another --out "
        "(nothing was changed)",
    )


def _island_state(exp: Any, run_path: Path, k: int, generation: int, size: int) -> SearchState:
    path = island_file(run_path, k)
    if not path.exists():
        raise ConfigError(
            "resume",
            f"{path} is missing: restore it, or start a new run in another --out (nothing was changed)",
        )
    try:
        doc = json.loads(read_text(path, "resume", "island checkpoint"))
    except (json.JSONDecodeError, RecursionError) as e:
        raise _damaged(path, f"not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != ISLAND_FORMAT:
        raise ConfigError("resume", f"{path} is not a wann island checkpoint ({ISLAND_FORMAT})")
    entries = [doc] + ([doc["previous"]] if isinstance(doc.get("previous"), dict) else [])
    entry = next((e for e in entries if e.get("generation") == generation), None)
    if entry is None:
        raise ConfigError(
            "resume",
            f"{path} is at generation {doc.get('generation')}, checkpoint.json at {generation}: the run folder's "
            "files disagree; restore them, or start a new run in another --out (nothing was changed)",
        )
    try:
        state = SearchState.from_dict(entry["state"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
        raise _damaged(path, f"{type(e).__name__}: {e}") from None
    problems = []
    if state.generation != generation:
        problems.append(f"its state is at generation {state.generation}, not {generation}")
    if len(state.population) != size:
        problems.append(f"its population has {len(state.population)} genomes, the experiment's island {k} {size}")
    t = task_from_spec(exp.task)
    bad = [g for g in state.population if (g.n_inputs, g.n_outputs) != (t.n_inputs, t.n_outputs)]
    if bad:
        problems.append(f"genomes with {bad[0].n_inputs}/{bad[0].n_outputs} inputs/outputs")
    if problems:
        raise ConfigError(
            "resume",
            f"{path}: {'; '.join(problems)}; restore the file, or start a new run in another --out "
            "(nothing was changed)",
        )
    return state


def check_resume_islands(exp: Any, run: Any, out: Path) -> tuple[IslandsState, dict[str, Any]]:
    """The state to resume an island run from (`run`: its `RunDir`), checked against `exp`;
    ConfigError("resume") naming the file that disagrees. Reads only."""
    doc = run.read_checkpoint()
    if doc.get("experiment_id") != experiment_identity(exp):
        raise ConfigError(
            "resume",
            f"{out} was made by a different experiment (its settings differ); "
            "resume with the same experiment file, or choose another --out",
        )
    st = doc["state"]
    if st.get("mode") != MODE or not isinstance(st.get("generation"), int) or st["generation"] < 0:
        raise _damaged(run.checkpoint_file, "not the checkpoint of an island run")
    generation = st["generation"]
    sizes = island_sizes(exp.search.population, exp.islands.count)
    states = tuple(_island_state(exp, out, k, generation, n) for k, n in enumerate(sizes))
    rows = run.read_metrics()
    have = {(r.get("generation"), r.get("island")) for r in rows if None not in r.values()}
    missing = [(g, k) for g in range(generation) for k in range(len(sizes)) if (str(g), str(k)) not in have]
    if missing:
        raise ConfigError(
            "resume",
            f"{out}: metrics.csv has no row for generation {missing[0][0]} of island {missing[0][1]}, the checkpoint "
            f"is at generation {generation}; restore metrics.csv, or start a new run in another --out "
            "(nothing was changed)",
        )
    try:
        champion = Genome.from_dict(st["champion"], "checkpoint.champion") if st.get("champion") else None
    except ConfigError as e:
        raise _damaged(run.checkpoint_file, e.message) from None
    return IslandsState(generation, states, champion), doc
