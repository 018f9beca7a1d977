"""One cell of a study: compute it from its inputs and return its `CellResult` document.

A cell is a pure function of (cell, task settings, study settings, the documents of the cells it
depends on), apart from a search cell's own run folder, the progress file a running cell keeps
for the driver's view (`wann.study.cell_progress`) and a search cell's TensorBoard curves; it
runs in-process or as a Ray task.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from wann.baselines.inits import replicate_seed
from wann.baselines.methods import CLASSIFY
from wann.seeds import LANDSCAPE_SEED
from wann.study.cell_progress import CellProgress, SearchCellProgress
from wann.study.plan import ASSESSMENT, SEARCH, Cell, cell_id
from wann.study.results import CellResult
from wann.study.spec import StudyTask

#: the structure probe's variants, each a column shared_<key> of the table
PROBE_KEYS = ("signed", "positive", "signed_bias_trained", "positive_bias_trained")


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
    from wann.weighted import flops_per_step, structure_counts

    g = net.genome
    return {**structure_counts(g), "flops_per_step": flops_per_step(g), "latency_us": latency_us(g, net.weights)}


def _landscape(kind: str, task, executor, net, episodes: int, seed: int) -> dict[str, Any] | None:
    if episodes <= 0:
        return None
    from wann.measures import landscape as ls

    if kind == CLASSIFY:
        scorer = ls.classify_scorer(task, net.genome, "train")
    else:
        scorer = ls.rl_scorer(executor, net.genome, list(range(LANDSCAPE_SEED, LANDSCAPE_SEED + episodes)))
    return ls.landscape(kind, scorer, net.genome, net.weights, task=task if kind == CLASSIFY else None, seed=seed)


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
    """Compute one cell. Pure apart from a search cell's own run folder (and, when the study
    asks, the cell's progress file and a search's TensorBoard curves); returns the result
    document (`CellResult.to_dict`) the driver writes. inputs: the documents of `cell.deps`."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.monotonic()
    progress = CellProgress(study["out"], cell.file) if study.get("cell_progress") else None
    # one BLAS thread, as in a Ray worker (Ray sets OMP_NUM_THREADS=1 before numpy loads): a
    # multi-threaded BLAS sums in another order, so CMA-ES (its eigendecompositions) would give
    # a cell computed in the driver (--executor serial) other numbers, in the last bits at first
    try:
        with threadpool_limits(limits=1):
            if cell.kind == SEARCH:
                return _run_search(cell, task_cfg, study, t0, progress)
            return _run_training(cell, task_cfg, study, inputs, t0, progress)
    finally:
        if progress is not None:
            progress.close()


def _run_training(cell: Cell, task_cfg: StudyTask, study: dict[str, Any], inputs: dict[str, dict], t0, progress):
    """An assessment or a training cell (see `run_cell`); progress: its `CellProgress` or None."""
    from wann.baselines import recipes
    from wann.baselines.common import Budget, TrainResult
    from wann.baselines.methods import REGISTRY, RL
    from wann.executor import SerialExecutor
    from wann.genome import Genome
    from wann.weighted import WeightedNetwork, live_connections

    executor = SerialExecutor(task_cfg.spec)
    task = executor.task
    kind = task_cfg.kind
    test_n = study["test_episodes"]
    champ_doc = inputs.get(cell_id(cell.task, SEARCH, "-", cell.seed))
    if cell.half and champ_doc:  # the search at half its budget: its champion then, and its cost
        champion_doc, sbud = champ_doc["half"]["champion"], champ_doc["half"]["search_budget"]
    else:
        champion_doc = champ_doc["champion"] if champ_doc else task_cfg.champion
        sbud = champ_doc["search_budget"] if champ_doc else {}
    champion = Genome.from_dict(champion_doc) if champion_doc is not None else None
    target = -1
    if not math.isnan(cell.size_factor):
        target = max(task.n_outputs, round(cell.size_factor * live_connections(champion)))
    base = {
        "study": study["name"],
        "task": cell.task,
        "kind": kind,
        "seed": cell.seed,
        "size": cell.size,
        "variant": cell.variant,
        "init": cell.init or study.get("base_init", "default"),
        "rep": cell.rep,
        "prune_at": cell.at,
        "size_factor": cell.size_factor,
        "target_connections": target,
        "cell": cell.id,
        "parent": cell.parent,
        "budget_unit": "episodes" if kind == RL else "examples",
        "parent_episodes": 0,
        "parent_env_steps": 0,
        "parent_cpu_s": 0.0,
        "search_episodes": 0,
        "search_env_steps": 0,
        "search_cpu_s": 0.0,
        "shared_weight": math.nan,
        "shared_signed": math.nan,
        "shared_positive": math.nan,
        "shared_signed_bias_trained": math.nan,
        "shared_positive_bias_trained": math.nan,
    }
    ck_n = 20 if kind == RL else len(task.split("test")[1])
    swb = {  # the WANN search behind a wann_* row
        "search_episodes": int(sbud.get("episodes", 0)),
        "search_env_steps": int(sbud.get("env_steps", 0)),
        "search_cpu_s": float(sbud.get("cpu_s", 0.0)),
    }

    def parent_net(cid: str) -> TrainResult:
        doc = inputs[cid]
        net = WeightedNetwork.from_dict(doc["networks"][doc["primary"]])
        return TrainResult(doc["primary"], net, {}, Budget(**doc["budget"]))

    ctx = recipes.Context(
        task,
        executor,
        cell.seed,
        task_cfg.budget,
        task_cfg.epochs,
        champion,
        None if target < 0 else target,
        cell.hidden or task_cfg.dense[0],  # sparse / pruned nets live on the study's parent shape
        test_episodes=test_n,
        init=cell.init or study.get("base_init", "default"),
        init_seed=replicate_seed(cell.seed, cell.rep) if cell.rep else None,
        at=None if math.isnan(cell.at) else cell.at,
        progress=progress.message if progress is not None else None,
    )
    results: list[tuple[str, TrainResult, dict]] = []  # (method, result, extra columns)
    extra_doc: dict[str, Any] = {}
    if cell.kind == ASSESSMENT:
        assessed, a = recipes.assessed(ctx)
        for r in assessed:
            sw = a.best_shared["weight"] if r.method == "wann_best_shared" else math.nan
            results.append((r.method, r, {**swb, "shared_weight": sw}))
        primary = "wann_best_shared"
        extra_doc = {"assessment": a.to_dict()}
    else:
        method = REGISTRY[cell.kind]
        primary = cell.kind
        if kind == RL and cell.deps:  # the parents other cells trained (RL only)
            by_method = {inputs[d]["primary"]: d for d in cell.deps if "primary" in inputs[d]}
            ctx.parents = {m: parent_net(d) for m, d in by_method.items() if m in REGISTRY}
        out = recipes.run(cell.kind, ctx)
        extra: dict[str, Any] = dict(swb) if method.needs_champion else {}
        # the cost of every ancestor (trained in other cells, or in this one), as the recipe counts it
        cost = out[0].info["cost"]
        ancestors = list(cost["parents"].values())
        extra["budget_unit"] = cost["unit"]
        extra.update({f"parent_{k}": sum(b[k] for b in ancestors) for k in ("episodes", "env_steps", "cpu_s")})
        if method.probed:
            probe = out[0].info["shared_weight_probe"]
            extra.update({f"shared_{k}": probe[k]["test"]["mean"] for k in PROBE_KEYS if k in probe})
            extra_doc["shared_weight_probe"] = probe
        results.append((cell.kind, out[0], extra))

    rows, networks, landscapes = [], {}, {}
    for m, r, extra in results:
        st = _structure(r.network)
        for row in _rows_of(r, {**base, **extra, "method": m, **st}, kind, test_n, ck_n):
            row["total_episodes"] = row["episodes"] + row["parent_episodes"]
            row["total_env_steps"] = row["env_steps"] + row["parent_env_steps"]
            row["total_cpu_s"] = row["cpu_s"] + row["parent_cpu_s"]
            rows.append(row)
        networks[m] = r.network.to_dict()
    main = next(r for m, r, _ in results if m == primary)
    episodes = study["landscape_episodes"] if _gets_landscape(cell, task_cfg, study) else 0
    try:
        landscapes[primary] = _landscape(kind, task, executor, main.network, episodes, cell.seed)
    except ImportError:
        landscapes[primary] = None
    wall = time.monotonic() - t0
    for row in rows:
        row["wall_s"] = wall
    return CellResult(
        cell=cell.id,
        identity=study["identity"],
        rows=rows,
        primary=primary,
        budget=asdict(main.budget),
        networks=networks,
        landscape=landscapes,
        info={m: _jsonable(r.info) for m, r, _ in results},
        extra=extra_doc,
        wall_s=wall,
        worker=worker_info(),
    ).to_dict()


def _gets_landscape(cell: Cell, task_cfg: StudyTask, study: dict[str, Any]) -> bool:
    """Whether a cell computes the landscape measures: every cell, or with landscapes = "base"
    only the base cells at 1x, unsized, or the first dense width (not the half-budget search)."""
    if study.get("landscapes", "all") == "all":
        return True
    from wann.study.plan import width_label

    return cell.variant in ("1x", "-", width_label(task_cfg.dense[0]))


def _jsonable(x):
    return json.loads(json.dumps(x, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def _run_search(cell: Cell, task_cfg: StudyTask, study: dict[str, Any], t0: float, progress=None) -> dict[str, Any]:
    from wann.executor import SerialExecutor
    from wann.search.experiment import experiment_from_dict
    from wann.search.run import prepare, run_search
    from wann.search.rundir import RunDir

    exp = experiment_from_dict({**task_cfg.search, "seed": cell.seed}, task_cfg.search_file)
    exp = exp.replace(name=f"{exp.name}-s{cell.seed}")
    out = Path(study["out"]) / "searches" / f"{cell.task}-s{cell.seed}"
    resume = RunDir(out).checkpoint_file.exists()
    if out.exists() and not resume:
        import shutil

        shutil.rmtree(out)  # a search killed before its first checkpoint: nothing to keep
    # the study folder is locked by the driver: no lock of its own (a retried cell may run elsewhere)
    reporters = [SearchCellProgress(progress)] if progress is not None else []
    reporters += _search_tensorboard(study, cell)
    prepared = prepare(exp, out, resume, lock=False)
    res = run_search(
        exp,
        out,
        executor=SerialExecutor(exp.task),
        resume=resume,
        progress=False,
        prepared=prepared,
        reporters=reporters,
    )
    doc = json.loads(RunDir(out).checkpoint_file.read_text())
    return CellResult(
        cell=cell.id,
        identity=study["identity"],
        rows=[],
        champion=res.state.best.to_dict(),
        search_budget={
            "episodes": int(res.state.episodes),
            "env_steps": int(res.state.env_steps),
            "cpu_s": float(doc.get("cpu_s", 0.0)),
            "wall_s": float(doc.get("wall_s", 0.0)),
            "generations": int(res.state.generation),
        },
        extra={"half": half_budget(RunDir(out), int(res.state.generation))},
        wall_s=time.monotonic() - t0,
        worker=worker_info(),
    ).to_dict()


def search_logdir(tensorboard: str | Path, cell: Cell) -> Path:
    """Where a search cell's TensorBoard curves go: TENSORBOARD/searches/<task>-s<seed> (its
    study's log folder; the same name as its run folder under the study's searches/)."""
    return Path(tensorboard) / "searches" / f"{cell.task}-s{cell.seed}"


def _search_tensorboard(study: dict[str, Any], cell: Cell) -> list:
    """The search cell's TensorBoard reporter when the study logs to TensorBoard (the driver
    passes the folder as ``study["tensorboard"]``); none, with a warning, where the worker lacks
    the package or cannot write there: tracking never fails a cell."""
    if not study.get("tensorboard"):
        return []
    from wann.errors import ConfigError
    from wann.search.tensorboard import TensorBoard

    try:
        return [TensorBoard(search_logdir(study["tensorboard"], cell))]
    except ConfigError as e:
        print(f"wann compare: {cell.id}: no TensorBoard curves ({e})", file=sys.stderr, flush=True)
        return []


def half_budget(run, generations: int) -> dict[str, Any]:
    """The search at half its generations, from its run folder: the best genome found in the
    first ``generations // 2`` generations (the last champions/gen-K.json with K below that) and
    the cost of those generations (metrics.csv: cumulative episodes, steps, CPU-seconds)."""
    import csv

    half = max(1, generations // 2)
    gens = sorted(int(f.stem.split("-")[1]) for f in run.champions_dir.glob("gen-*.json"))
    k = max(g for g in gens if g < half)
    champion = json.loads((run.champions_dir / f"gen-{k:05d}.json").read_text())
    with open(run.metrics_file, newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if int(r["generation"]) == half - 1)
    return {
        "champion": champion,
        "found_at": k,
        "search_budget": {
            "episodes": int(row["total_episodes"]),
            "env_steps": int(row["total_env_steps"]),
            "cpu_s": float(row["cpu_s"]),
            "wall_s": float(row["wall_s"]),
            "generations": half,
        },
    }


def worker_info() -> dict[str, Any]:
    """Where a cell ran: host, process and (inside a Ray task) the Ray node id."""
    import socket

    node = ""
    if "ray" in sys.modules:  # a Ray worker (never import Ray just to ask)
        from wann.distributed.cluster import current_node

        node = current_node()
    return {"host": socket.gethostname(), "pid": os.getpid(), "node": node}
