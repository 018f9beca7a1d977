"""`wann compare STUDY.toml`: run a study's grid of cells and collect one tidy results table.

A *cell* is one unit of work: a WANN search for one (task, seed), the assessment of its champion,
or the training of one counterpart for one (task, method, seed, size). Cells depend on each other
(the pruned nets start from the seed's dense net, the sized methods need the champion's connection
count), run as Ray tasks (one CPU each) as soon as their inputs exist, and return their result to
the driver, which writes it atomically to `OUT/cells/<cell>.json`. A rerun skips finished cells,
so a killed study resumes where it stopped; a failed cell is reported, its dependents skipped,
and it is tried again on the next run.

The table `OUT/results.parquet` (and `results.csv`) has one row per (cell, method, checkpoint):
checkpoints at 10, 25, 50 and 100 % of the cell's training budget; the 100 % row carries the
final score on fresh test episodes (RL: mean return over `test_episodes`; classification: test
accuracy).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wann.errors import ConfigError
from wann.files import FolderLock, check_writable_folder, read_json, visible_entries
from wann.store import atomic_write_text
from wann.study import ASSESSED, Study, StudyTask

CELL_FORMAT = "wann.cell/1"
STUDY_FORMAT = "wann.study/1"

#: the results table's columns, in order, with their types (pyarrow names)
COLUMNS: dict[str, str] = {
    "study": "string",
    "task": "string",
    "kind": "string",
    "method": "string",
    "seed": "int64",
    "size": "string",  # '1x', '0.5x', a dense width such as '10' or '32-32', or '-'
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
    "parent_episodes": "int64",  # the parent's training (the dense net a pruned one came from)
    "parent_cpu_s": "float64",
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
    "wall_s": "float64",  # the cell's wall time
}


@dataclass
class Cell:
    id: str
    task: str
    kind: str  # 'search', 'wann' (the assessed rows), or a training method
    seed: int
    size: str = "-"
    size_factor: float = math.nan
    hidden: list[int] | None = None
    deps: list[str] = field(default_factory=list)
    parent: str = ""

    @property
    def file(self) -> str:
        return self.id.replace("/", "__") + ".json"


def _size_label(f: float) -> str:
    return f"{f:g}x"


def _width_label(hidden: list[int]) -> str:
    return "-".join(map(str, hidden))


def cell_id(task: str, kind: str, size: str, seed: int) -> str:
    return f"{task}/{kind}/{size}/s{seed}"


def plan(study: Study) -> list[Cell]:
    """Every cell of the grid, parents before children."""
    cells: dict[str, Cell] = {}

    def add(c: Cell) -> str:
        cells.setdefault(c.id, c)
        return c.id

    for t in study.tasks:
        methods = study.methods_of(t)
        for s in study.seeds:

            def cid(kind: str, size: str = "-", label: str = t.label, seed: int = s) -> str:
                return cell_id(label, kind, size, seed)

            champ = [add(Cell(cid("search"), t.label, "search", s))] if t.search else []
            if any(m in ASSESSED for m in methods):
                add(Cell(cid("wann"), t.label, "wann", s, deps=champ, parent=champ[0] if champ else ""))
            for m in ("wann_tuned", "wann_retrained"):
                if m in methods:
                    add(Cell(cid(m), t.label, m, s, deps=champ, parent=champ[0] if champ else ""))
            needs_parent = any(m in methods for m in ("pruned_magnitude", "pruned_taylor", "lottery_ticket"))
            for i, h in enumerate(t.dense):
                if "dense" in methods or (i == 0 and needs_parent):
                    w = _width_label(h)
                    add(Cell(cid("dense", w), t.label, "dense", s, size=w, hidden=h))
            parent = cid("dense", _width_label(t.dense[0]))
            # classification counterparts retrain their (cheap, deterministic) dense parent in-cell
            wait = [parent] if t.kind == "rl" else []
            for f in study.sizes:
                sz = _size_label(f)
                for m in ("small_dense", "random_sparse"):
                    if m in methods:
                        add(Cell(cid(m, sz), t.label, m, s, sz, f, deps=champ))
                pm = cid("pruned_magnitude", sz)
                if "pruned_magnitude" in methods or "lottery_ticket" in methods:
                    add(Cell(pm, t.label, "pruned_magnitude", s, sz, f, deps=champ + wait, parent=parent))
                if "pruned_taylor" in methods:
                    add(
                        Cell(
                            cid("pruned_taylor", sz),
                            t.label,
                            "pruned_taylor",
                            s,
                            sz,
                            f,
                            deps=champ + wait,
                            parent=parent,
                        )
                    )
                if "lottery_ticket" in methods:
                    deps = champ + wait + ([pm] if t.kind == "rl" else [])
                    add(Cell(cid("lottery_ticket", sz), t.label, "lottery_ticket", s, sz, f, deps=deps, parent=pm))
            if "neat" in methods:
                add(Cell(cid("neat"), t.label, "neat", s))
    return list(cells.values())


# ---- one cell ------------------------------------------------------------------------------


def latency_us(genome, weights, repeats: int = 200) -> float:
    """Median wall time of one forward pass (one observation) of the compiled evaluator, in µs."""
    from wann.network import compile_genomes, edge_weights_from_connections, forward

    batch = compile_genomes([genome])
    ew = edge_weights_from_connections(batch, 0, np.asarray(weights)[None, :])
    obs = np.zeros((1, genome.n_inputs))
    rg, w0 = np.zeros(1, dtype=np.int64), np.zeros(1)
    forward(batch, rg, obs, w0, ew)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        forward(batch, rg, obs, w0, ew)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e6)


def _structure(net) -> dict[str, Any]:
    from wann.baselines.networks import flops_per_step, structure_counts

    g = net.genome
    return {**structure_counts(g), "flops_per_step": flops_per_step(g), "latency_us": latency_us(g, net.weights)}


def _landscape(kind: str, task, executor, net, episodes: int, seed: int) -> dict[str, Any] | None:
    if episodes <= 0:
        return None
    from wann.analysis import landscape as ls

    if kind == "classify":
        scorer = ls.classify_scorer(task, net.genome, "train")
    else:
        scorer = ls.rl_scorer(executor, net.genome, list(range(7_000_000, 7_000_000 + episodes)))
    return ls.landscape(kind, scorer, net.genome, net.weights, task=task if kind == "classify" else None, seed=seed)


def _rows_of(result, base: dict[str, Any], kind: str, test_n: int, ck_n: int) -> list[dict[str, Any]]:
    """Rows of one TrainResult: its checkpoints below 100 %, and the final score as the 100 % row."""
    b = result.budget
    rows = []
    for ck in result.checkpoints:
        if ck["fraction"] >= 1.0:
            continue
        f = float(ck["fraction"])
        score = ck.get("score_mean", ck.get("accuracy"))
        rows.append(
            {
                **base,
                "fraction": f,
                "final": False,
                "score": float(score),
                "score_sd": float(ck.get("score_sd", 0.0)),
                "score_n": ck_n,
                # torch checkpoints carry epochs only: their share of the budget is exact in examples
                "episodes": int(ck.get("episodes", round(f * b.episodes))),
                "env_steps": int(ck.get("env_steps", round(f * b.env_steps))),
                "cpu_s": float(ck.get("cpu_s", f * b.cpu_s)),
            }
        )
    sc = result.score
    rows.append(
        {
            **base,
            "fraction": 1.0,
            "final": True,
            "score": float(sc.get("mean", sc.get("accuracy"))),
            "score_sd": float(sc.get("sd", 0.0)),
            "score_n": int(sc.get("n", test_n)),
            "episodes": b.episodes,
            "env_steps": b.env_steps,
            "cpu_s": b.cpu_s,
        }
    )
    return rows


def run_cell(cell: Cell, task_cfg: StudyTask, study: dict[str, Any], inputs: dict[str, dict]) -> dict[str, Any]:
    """Compute one cell. Pure apart from a search cell's own run folder; returns the result
    document the driver writes."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from wann.baselines import rl
    from wann.baselines.common import Budget, TrainResult
    from wann.baselines.networks import WeightedNetwork
    from wann.executor import SerialExecutor
    from wann.genome import Genome

    t0 = time.monotonic()
    executor = SerialExecutor(task_cfg.spec)
    task = executor.task
    kind = task_cfg.kind
    test_n = study["test_episodes"]
    if cell.kind == "search":
        return _run_search(cell, task_cfg, study, t0)
    champ_doc = inputs.get(f"{cell.task}/search/-/s{cell.seed}")
    champion_doc = champ_doc["champion"] if champ_doc else task_cfg.champion
    champion = Genome.from_dict(champion_doc) if champion_doc is not None else None
    sbud = champ_doc["search_budget"] if champ_doc else {}
    target = -1
    if not math.isnan(cell.size_factor):
        target = max(task.n_outputs, round(cell.size_factor * champion.n_connections))
    base = {
        "study": study["name"],
        "task": cell.task,
        "kind": kind,
        "seed": cell.seed,
        "size": cell.size,
        "size_factor": cell.size_factor,
        "target_connections": target,
        "cell": cell.id,
        "parent": cell.parent,
        "parent_episodes": 0,
        "parent_cpu_s": 0.0,
        "search_episodes": 0,
        "search_env_steps": 0,
        "search_cpu_s": 0.0,
        "shared_weight": math.nan,
        "shared_signed": math.nan,
        "shared_positive": math.nan,
    }
    ck_n = 20 if kind == "rl" else len(task.split("test")[1])
    results: list[tuple[str, TrainResult, dict]] = []  # (method, result, extra columns)
    budget, epochs, seed = task_cfg.budget, task_cfg.epochs, cell.seed
    swb = {
        "search_episodes": int(sbud.get("episodes", 0)),
        "search_env_steps": int(sbud.get("env_steps", 0)),
        "search_cpu_s": float(sbud.get("cpu_s", 0.0)),
    }

    def parent_net(cid: str) -> TrainResult:
        doc = inputs[cid]
        net = WeightedNetwork.from_dict(doc["networks"][doc["primary"]])
        return TrainResult(doc["primary"], net, {}, Budget(**doc["budget"]))

    if cell.kind == "wann":
        from wann.assess import assess

        a = assess(champion, None, episodes=test_n)
        C = len(champion.connections)
        rows_src = {
            "wann_six_values": (a["search_values_mean"], a["search_values_sd"], math.nan),
            "wann_random_shared": (a["random_shared"]["mean"], a["random_shared"]["sd"], math.nan),
            "wann_random_individual": (a["random_individual"]["mean"], a["random_individual"]["sd"], math.nan),
            "wann_best_shared": (a["best_shared"]["mean"], a["best_shared"]["sd"], a["best_shared"]["weight"]),
        }
        if kind == "classify":
            rows_src["wann_ensemble"] = (a["ensemble_accuracy"], 0.0, math.nan)
        w = a["best_shared"]["weight"]
        for m, (mean, sd, sw) in rows_src.items():
            net = WeightedNetwork(champion, np.full(C, w if m == "wann_best_shared" else 1.0))
            r = TrainResult(m, net, {"mean": mean, "sd": sd, "n": test_n}, Budget())
            results.append((m, r, {**swb, "shared_weight": sw}))
        primary = "wann_best_shared"
        extra_doc = {"assessment": a}
    elif cell.kind in ("wann_tuned", "wann_retrained"):
        fn = rl.tune_wann if cell.kind == "wann_tuned" else rl.retrain_topology
        r = fn(executor, task, champion, budget, seed, test_episodes=test_n)
        results.append((cell.kind, r, swb))
        primary, extra_doc = cell.kind, {}
    else:
        from wann.baselines import run_method

        extra_doc = {}
        primary = cell.kind
        if cell.kind == "dense":
            if kind == "classify":
                from wann.baselines import supervised as sv

                r = sv.train_dense(task, cell.hidden, epochs, seed)[0]
            else:
                r = rl.train_dense(executor, task, cell.hidden, budget, seed, test_episodes=test_n)
            results.append(("dense", r, {}))
        elif cell.kind in ("pruned_magnitude", "pruned_taylor", "lottery_ticket") and kind == "rl":
            dense_id = f"{cell.task}/dense/{_width_label(task_cfg.dense[0])}/s{seed}"
            dense = parent_net(dense_id)
            dense.network.meta.setdefault("init", inputs[dense_id]["networks"]["dense"]["meta"].get("init"))
            if cell.kind == "lottery_ticket":
                pruned = parent_net(cell.parent)
                r = rl.lottery_ticket(executor, task, dense, pruned, budget, seed, test_episodes=test_n)
                pb = inputs[cell.parent]["budget"]
                parent_cost = {"parent_episodes": pb["episodes"], "parent_cpu_s": pb["cpu_s"]}
            else:
                crit = cell.kind.removeprefix("pruned_")
                r = rl.prune(executor, task, dense, target, crit, budget, seed, test_episodes=test_n)
                parent_cost = {"parent_episodes": dense.budget.episodes, "parent_cpu_s": dense.budget.cpu_s}
            results.append((cell.kind, r, parent_cost))
        else:
            b = epochs if kind == "classify" and cell.kind != "neat" else budget
            out = run_method(
                cell.kind,
                task,
                executor,
                b,
                seed,
                champion=None,
                target=None if target < 0 else target,
                test_episodes=test_n,
                hidden=task_cfg.dense[0],  # sparse / pruned nets live on the study's parent shape
            )
            extra = {}
            if len(out) > 1:  # classification pruning: the dense parent trained in-cell
                extra = {"parent_episodes": out[-1].budget.episodes, "parent_cpu_s": out[-1].budget.cpu_s}
            results.append((cell.kind, out[0], extra))
        if cell.kind in ("pruned_magnitude", "pruned_taylor", "lottery_ticket", "random_sparse"):
            r0 = results[0][1]
            probe = r0.info.get("shared_weight_probe") or rl.shared_weight_probe(
                executor, r0.network, episodes=10, test_episodes=test_n
            )
            r0.info["shared_weight_probe"] = probe
            results[0][2].update(
                {"shared_signed": probe["signed"]["test"]["mean"], "shared_positive": probe["positive"]["test"]["mean"]}
            )
            extra_doc["shared_weight_probe"] = probe

    rows, networks, landscapes = [], {}, {}
    for m, r, extra in results:
        st = _structure(r.network)
        for row in _rows_of(r, {**base, **extra, "method": m, **st}, kind, test_n, ck_n):
            rows.append(row)
        networks[m] = r.network.to_dict()
    main = next(r for m, r, _ in results if m == primary)
    try:
        landscapes[primary] = _landscape(kind, task, executor, main.network, study["landscape_episodes"], seed)
    except ImportError:
        landscapes[primary] = None
    wall = time.monotonic() - t0
    for row in rows:
        row["wall_s"] = wall
    return {
        "format": CELL_FORMAT,
        "cell": cell.id,
        "identity": study["identity"],
        "primary": primary,
        "budget": asdict(main.budget),
        "rows": rows,
        "networks": networks,
        "landscape": landscapes,
        "info": {m: _jsonable(r.info) for m, r, _ in results},
        **extra_doc,
        "wall_s": wall,
        "worker": worker_info(),
    }


def _jsonable(x):
    return json.loads(json.dumps(x, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def _run_search(cell: Cell, task_cfg: StudyTask, study: dict[str, Any], t0: float) -> dict[str, Any]:
    from wann.executor import SerialExecutor
    from wann.experiment import experiment_from_dict
    from wann.runner import prepare, run_search
    from wann.store import RunDir

    exp = experiment_from_dict({**task_cfg.search, "seed": cell.seed}, task_cfg.search_file)
    exp = exp.replace(name=f"{exp.name}-s{cell.seed}")
    out = Path(study["out"]) / "searches" / f"{cell.task}-s{cell.seed}"
    resume = RunDir(out).checkpoint_file.exists()
    if out.exists() and not resume:
        import shutil

        shutil.rmtree(out)  # a search killed before its first checkpoint: nothing to keep
    # the study folder is locked by the driver: no lock of its own (a retried cell may run elsewhere)
    prepared = prepare(exp, out, resume, lock=False)
    res = run_search(exp, out, executor=SerialExecutor(exp.task), resume=resume, progress=False, prepared=prepared)
    doc = json.loads(RunDir(out).checkpoint_file.read_text())
    return {
        "format": CELL_FORMAT,
        "cell": cell.id,
        "identity": study["identity"],
        "rows": [],
        "champion": res.state.best.to_dict(),
        "search_budget": {
            "episodes": int(res.state.episodes),
            "env_steps": int(res.state.env_steps),
            "cpu_s": float(doc.get("cpu_s", 0.0)),
            "wall_s": float(doc.get("wall_s", 0.0)),
            "generations": int(res.state.generation),
        },
        "wall_s": time.monotonic() - t0,
        "worker": worker_info(),
    }


def worker_info() -> dict[str, Any]:
    """Where a cell ran: host, process and (inside a Ray task) the Ray node id."""
    import socket

    node = ""
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            node = ray.get_runtime_context().get_node_id()
    return {"host": socket.gethostname(), "pid": os.getpid(), "node": node}


# ---- the driver ----------------------------------------------------------------------------


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
            raise ConfigError("--out", f"{self.path} is a file; choose a folder for the study's results")
        if self.meta.exists():
            try:
                doc = read_json(self.meta, "--out", "study.json")
            except ConfigError as e:
                raise ConfigError(
                    "--out",
                    f"{self.meta} is damaged ({e.message}); restore it (its cells are intact) or choose another --out",
                ) from None
            if (
                not isinstance(doc, dict)
                or doc.get("format") != STUDY_FORMAT
                or not isinstance(doc.get("identity"), str)
            ):
                raise ConfigError(
                    "--out",
                    f"{self.meta} is damaged (not a {STUDY_FORMAT} document); restore it or choose another --out",
                )
            if doc.get("identity") != study.identity():
                raise ConfigError(
                    "--out",
                    f"{self.path} holds results of a different study ({doc.get('name')!r}, other settings); "
                    "nothing was changed: choose another --out, or restore that study's file",
                )
        elif visible_entries(self.path):
            raise ConfigError(
                "--out", f"{self.path} is not empty and holds no study; choose another --out (nothing was changed)"
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
                }
                for t in study.tasks
            ],
            "test_episodes": study.test_episodes,
        }
        atomic_write_text(self.meta, json.dumps(meta, indent=1))
        if src:
            atomic_write_text(self.path / "study.toml", src)

    def done(self, identity: str) -> dict[str, dict]:
        out = {}
        for f in sorted(self.cells.glob("*.json")) if self.cells.exists() else []:
            try:
                doc = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # a torn file cannot exist (atomic writes), but never trust one
            if doc.get("format") == CELL_FORMAT and doc.get("identity") == identity:
                out[doc["cell"]] = doc
        return out

    def write_cell(self, cell: Cell, doc: dict) -> None:
        atomic_write_text(self.cells / cell.file, json.dumps(doc, separators=(",", ":")))
        failed = self.cells / (cell.file + ".failed")
        if failed.exists():
            failed.unlink()

    def write_failure(self, cell: Cell, error: str) -> None:
        atomic_write_text(self.cells / (cell.file + ".failed"), error)


def write_table(run_dir: Path, docs: dict[str, dict] | None = None) -> Path:
    """Collect every finished cell's rows into results.parquet and results.csv (atomically)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    sd = StudyDir(run_dir)
    if docs is None:
        meta = json.loads(sd.meta.read_text())
        docs = sd.done(meta["identity"])
    rows = [r for cid in sorted(docs) for r in docs[cid].get("rows", [])]
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


class Progress:
    """Cells done / running / failed / skipped, elapsed and an estimate of the time left."""

    def __init__(self, total: int, done: int, concurrency: int, stream=None, enabled: bool = True):
        self.total, self.done0, self.concurrency = total, done, max(1, concurrency)
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.t0 = time.monotonic()
        self.kind_times: dict[str, list[float]] = {}

    def eta(self, pending: list[Cell], running: int) -> float:
        """Seconds of work left / concurrency: each pending cell costs the mean of its (task, kind)
        so far, else of its kind, else the median of all finished cells that are not searches
        (a search is minutes, an untrained assessment a second: neither stands in for the other)."""
        others = [x for k, v in self.kind_times.items() if not k.endswith("/search") for x in v]
        if not others and not pending:
            return 0.0
        fallback = float(np.median(others)) if others else math.nan
        by_kind: dict[str, list[float]] = {}
        for key, v in self.kind_times.items():
            by_kind.setdefault(key.split("/", 1)[1], []).extend(v)
        work = 0.0
        for c in pending:
            seen = self.kind_times.get(f"{c.task}/{c.kind}") or by_kind.get(c.kind)
            work += float(np.mean(seen)) if seen else fallback
        return work / self.concurrency

    def line(self, done: int, running: int, failed: int, pending: list[Cell], last: str) -> None:
        if not self.enabled:
            return
        el = time.monotonic() - self.t0
        eta = self.eta(pending, running)
        left = "?" if math.isnan(eta) else _hms(eta)
        print(
            f"[{done}/{self.total} cells done | {running} running | {failed} failed | "
            f"{_hms(el)} elapsed | ~{left} left] {last}",
            file=self.stream,
            flush=True,
        )


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class StudyResult:
    out: Path
    done: int
    failed: dict[str, str]
    skipped: list[str]
    table: Path | None


def run_study(
    study: Study,
    executor: str | None = None,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    max_cells: int | None = None,
) -> StudyResult:
    """Run (or resume) every cell of `study` not yet finished in `study.out`.

    max_cells: stop after this many cells finish in this call (tests use it)."""
    sd = StudyDir(study.out)
    check_writable_folder(sd.path, "--out")
    lock = FolderLock(sd.path, "--out", command=f"wann compare {study.name}")
    lock.check_free(take_stale=True)
    sd.check(study)  # read-only: a refusal changes nothing
    lock.acquire(take_stale=True)
    try:
        if lock.took_over and progress:
            print(
                f"wann: {sd.path} had a stale lock from pid {lock.took_over.get('pid')} (no longer running); "
                "taking it over",
                file=sys.stderr,
            )
        sd.check(study)  # again, now that nobody else can write here
        return _run_locked(study, sd, executor, workers, address, progress, max_cells)
    finally:
        lock.release()


def _run_locked(study: Study, sd: StudyDir, executor, workers, address, progress, max_cells) -> StudyResult:
    cells = plan(study)
    sd.start(study)
    ident = study.identity()
    docs = sd.done(ident)
    by_task = {t.label: t for t in study.tasks}
    sdict = {
        "name": study.name,
        "identity": ident,
        "out": str(study.out),
        "test_episodes": study.test_episodes,
        "landscape_episodes": study.landscape_episodes,
    }
    todo = [c for c in cells if c.id not in docs]
    kind = executor or study.executor
    own_ray = False
    if kind == "ray":
        from wann.distributed import connect

        own_ray = connect(address if address is not None else (study.address or None))
        import ray

        cpus = int(ray.cluster_resources().get("CPU", 1))
        concurrency = workers or study.workers or cpus
        if concurrency > cpus:
            print(f"warning: {concurrency} concurrent cells on {cpus} CPUs; using {cpus}", file=sys.stderr)
            concurrency = cpus
    elif kind == "serial":
        concurrency = 1
    else:
        raise ConfigError("--executor", f"unknown executor {kind!r}; use 'ray' or 'serial'")
    bar = Progress(len(cells), len(docs), concurrency, enabled=progress)
    if progress:
        print(
            f"study {study.name}: {len(cells)} cells ({len(docs)} already done, {len(todo)} to run) "
            f"on {concurrency} worker(s); results in {study.out}",
            file=sys.stderr,
            flush=True,
        )
    failed: dict[str, str] = {}
    skipped: list[str] = []
    inflight: dict[Any, Cell] = {}  # Ray object ref -> cell
    finished_now = 0
    pending = list(todo)

    def ready(c: Cell) -> bool:
        return all(d in docs for d in c.deps)

    def next_cell() -> Cell | None:
        # searches first: they are the longest cells and everything of their seed waits on them
        ok = [p for p in pending if ready(p)]
        return next((p for p in ok if p.kind == "search"), ok[0] if ok else None)

    def blocked(c: Cell) -> bool:
        return any(d in failed or d in skipped for d in c.deps)

    def finish(c: Cell, doc: dict | None, err: str | None) -> None:
        nonlocal finished_now
        if doc is not None:
            sd.write_cell(c, doc)
            docs[c.id] = doc
            bar.kind_times.setdefault(f"{c.task}/{c.kind}", []).append(float(doc.get("wall_s", 0.0)))
            finished_now += 1
            write_table(sd.path, docs)
            msg = f"{c.id} {doc.get('wall_s', 0.0):.1f} s"
        else:
            failed[c.id] = err or "failed"
            sd.write_failure(c, err or "failed")
            msg = f"{c.id} FAILED: {(err or '').strip().splitlines()[-1] if err else ''}"
        for p in list(pending):
            if blocked(p):
                pending.remove(p)
                skipped.append(p.id)
        bar.line(len(docs), len(inflight), len(failed) + len(skipped), pending, msg)

    def inputs_for(c: Cell) -> dict[str, dict]:
        # only what a cell needs (champion, parent nets), not whole documents with landscapes
        out = {}
        for d in c.deps:
            doc = docs[d]
            out[d] = {k: doc[k] for k in ("champion", "search_budget", "networks", "primary", "budget") if k in doc}
        return out

    try:
        if kind == "serial":
            while pending and (max_cells is None or finished_now < max_cells):
                c = next_cell()
                if c is None:
                    break
                pending.remove(c)
                try:
                    doc, err = run_cell(c, by_task[c.task], sdict, inputs_for(c)), None
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception:
                    doc, err = None, traceback.format_exc()
                finish(c, doc, err)
        else:
            import ray

            remote = ray.remote(num_cpus=1, max_retries=2, retry_exceptions=False)(run_cell)
            while (pending or inflight) and (max_cells is None or finished_now < max_cells):
                while len(inflight) < concurrency:
                    c = next_cell()
                    if c is None:
                        break
                    pending.remove(c)
                    inflight[remote.remote(c, by_task[c.task], sdict, inputs_for(c))] = c
                if not inflight:
                    break
                done_refs, _ = ray.wait(list(inflight), num_returns=1, timeout=30.0)
                for ref in done_refs:
                    c = inflight.pop(ref)
                    try:
                        doc, err = ray.get(ref), None
                    except (KeyboardInterrupt, SystemExit):
                        raise
                    except Exception as e:
                        doc, err = None, f"{type(e).__name__}: {e}"
                    finish(c, doc, err)
            for ref in inflight:
                ray.cancel(ref, force=True)
    finally:
        if own_ray:
            import ray

            ray.shutdown()
    for p in pending:
        if p.id not in skipped and max_cells is None:
            skipped.append(p.id)
    table = write_table(sd.path, docs) if docs else None
    if progress:
        print(
            f"study {study.name}: {len(docs)}/{len(cells)} cells done, {len(failed)} failed, "
            f"{len(skipped)} skipped; table {table}",
            file=sys.stderr,
            flush=True,
        )
    return StudyResult(sd.path, len(docs), failed, skipped, table)
