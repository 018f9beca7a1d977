"""The commands that run work: search, train, compare, report, bench (and the command table)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from wann.cli import catalog, inspect


def warn_rendering(specs, command: str) -> None:
    """One line on stderr (once) when a task renders its episodes on screen: ``render_mode =
    "human"`` in its env_kwargs draws every step of every episode, which makes a search or a
    training run tens of times slower (about 47x on the swing-up)."""
    for spec in specs:
        kw = spec.get("env_kwargs") if isinstance(spec, dict) else None
        if isinstance(kw, dict) and kw.get("render_mode") == "human":
            print(
                f'wann {command}: warning: task {spec.get("name")!r} has env_kwargs.render_mode = "human": every '
                "episode is drawn on screen, which makes the run about 50x slower; rendering is meant for watching "
                "a champion (wann evaluate), not for searching or training",
                file=sys.stderr,
            )
            return


def cmd_compare(args) -> int:
    from wann.study.scheduler import run_study
    from wann.study.spec import load_study

    study = load_study(args.study, out=args.out).slice(args.tasks, args.seeds)
    warn_rendering([t.spec for t in study.tasks], "compare")
    kw = {"workers": args.workers, "address": args.address, "progress": not args.quiet, "max_cells": args.max_cells}
    from wann.study.progress import study_reporters_from_settings

    extra = study_reporters_from_settings(tensorboard=args.tensorboard, name=study.name)
    res = run_study(study, executor=args.executor, reporters=extra, **kw)
    if args.report and not res.failed and not res.skipped:
        from wann.analysis.report import write_report

        md = write_report(res.out)
        print(f"report: {md}")
    print(f"results: {res.table}")
    return 1 if res.failed or res.skipped else 0


def cmd_report(args) -> int:
    from wann.analysis.report import write_report

    md = write_report(args.run_dir, args.out, compare_to=args.compare_to)
    print(f"report: {md} (and {md.with_suffix('.html')})")
    return 0


def cmd_search(args) -> int:
    from wann.errors import ConfigError
    from wann.search.experiment import check_bounds, load_experiment
    from wann.search.run import make_executor, prepare, run_search

    exp = load_experiment(args.experiment)
    if args.generations is not None:
        exp = exp.replace(search=_replace(exp.search, generations=args.generations))
    if args.seed is not None:
        exp = exp.replace(seed=args.seed)
    try:
        check_bounds(exp)
    except ConfigError as e:
        flag = {"search.generations": "--generations"}.get(e.field, e.field)
        raise ConfigError(flag, e.message, args.experiment) from None
    if args.resume and not args.out:
        raise ConfigError("--resume", "needs --out RUN_DIR naming the run to continue")
    out = Path(args.out) if args.out else Path("runs") / f"{exp.name}-s{exp.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    from wann.search.reporters import checkpoint_every_s
    from wann.search.tensorboard import reporters_from_settings

    checkpoint_every_s()  # WANN_CHECKPOINT_S checked before any work
    extra = reporters_from_settings(tensorboard=args.tensorboard, run_name=out.name)
    prepared = prepare(exp, out, args.resume)  # checked and locked before Ray starts
    warn_rendering([exp.task], "search")
    try:
        executor = make_executor(exp, args.executor, args.workers, args.address)
    except BaseException:
        prepared.release()
        raise
    try:
        # the one line that says where a resumed run continues (the progress line does not repeat it)
        start = "new run"
        if prepared.state:
            left = max(0, exp.search.generations - prepared.state.generation)
            start = f"resuming at generation {prepared.state.generation} ({left} to go)"
        print(
            f"wann search: {exp.name} on {exp.task['name']}, population {exp.search.population}, "
            f"{exp.search.generations} generations, executor {type(executor).__name__}, {start} -> {out}",
            file=sys.stderr,
        )
        kw = {
            "resume": args.resume,
            "progress": not args.quiet,
            "prepared": prepared,
            "reporters": extra,
            "announced": True,
        }
        result = run_search(exp, out, executor=executor, **kw)
    finally:
        executor.close()
        prepared.release()
    st = result.state
    from wann.search.reporters import is_classification

    if is_classification(exp):  # fitness is minus the cross-entropy (nats per sample), not a reward
        best = f"best cross-entropy {-st.best_fitness:.3f}"
    else:
        best = f"best mean reward {st.best_fitness:.2f}"
    print(
        f"done: {st.generation} generations, {best} "
        f"({st.best.n_connections if st.best else 0} connections), {st.episodes} episodes, "
        f"{result.wall_s:.1f} s"
    )
    print(f"results: {out}/  (champion.json, metrics.csv, checkpoint.json)")
    print(f"next: wann evaluate {out}/champion.json   |   wann show {out}/champion.json --png champion.png")
    return 0


def _replace(obj, **kw):
    import dataclasses

    return dataclasses.replace(obj, **kw)


def cmd_train(args) -> int:
    from wann.baselines import run_method
    from wann.errors import ConfigError
    from wann.files import atomic_write_text
    from wann.genome import Genome
    from wann.tasks import make_task, task_from_spec

    champion = Genome.load(args.champion) if args.champion else None
    if args.task:
        task = make_task(args.task)
    elif champion is not None and isinstance(champion.meta.get("task"), dict):
        task = task_from_spec(champion.meta["task"])
    else:
        raise ConfigError("--task", "name the task (--task), or give --champion whose file records it")
    from wann.baselines import check_method
    from wann.files import FolderLock, check_writable_folder, visible_entries

    check_method(args.method, task, champion, args.target, args.init, args.at)
    out = (
        Path(args.out)
        if args.out
        else Path("runs") / f"train-{args.method}-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    )

    def check_out():
        check_writable_folder(out, "--out")
        if visible_entries(out):
            what = "a result" if (out / "result.json").exists() else "files"
            raise ConfigError("--out", f"{out} already holds {what}; give a new or empty folder (nothing was changed)")

    lock = FolderLock(out, "--out", command=f"wann train {args.method}")
    lock.check_free(take_stale=True)
    check_out()
    warn_rendering([task.spec()], "train")
    lock.acquire(take_stale=True)
    try:
        check_out()
        if args.executor == "ray":
            from wann.distributed import RayExecutor

            executor = RayExecutor(task.spec(), workers=args.workers)
        else:
            from wann.executor import SerialExecutor

            executor = SerialExecutor(task.spec())
        try:
            results = run_method(
                args.method,
                task,
                executor,
                args.budget,
                args.seed,
                champion,
                args.target,
                progress=lambda m: print(m, file=sys.stderr, flush=True),
                test_episodes=args.episodes,
                hidden=args.hidden,
                init=args.init,
                at=args.at,
            )
        finally:
            executor.close()
        summary = {
            "task": task.spec(),
            "method": args.method,
            "seed": args.seed,
            "budget_arg": args.budget,
            "results": [r.summary() for r in results],
        }
        for r in results:
            r.network.save(out / f"{r.method}.json")
        atomic_write_text(out / "result.json", json.dumps(summary, indent=1))
    finally:
        lock.release()
    main_r = results[0]
    sc = main_r.score
    what = f"accuracy {sc['accuracy']:.4f}" if "accuracy" in sc else f"{sc['mean']:.2f} +- {sc['sd']:.2f}"
    print(
        f"{args.method} on {task.name}: {what}, {main_r.network.connections} connections, "
        f"{main_r.budget.episodes} training {main_r.info.get('cost', {}).get('unit', 'episodes')}, "
        f"{main_r.budget.cpu_s:.1f} CPU-s"
    )
    print(f"results: {out}/  (result.json, {main_r.method}.json)")
    return 0


def cmd_bench(args) -> int:
    from wann.bench import run_bench

    result = run_bench(quick=args.quick, scaling=args.scaling, progress=not args.json, task=args.task)
    print(json.dumps(result, indent=1) if args.json else format_bench(result))
    return 0


def format_bench(r: dict) -> str:
    """Every result of `wann.bench.run_bench` as text: the unit, each workload (speed, the numpy
    path, environment share, and its size), the scaling times and ratios, then any other key."""
    lines = [f"unit: {r['unit']}"] if "unit" in r else []
    for k, v in r.items():
        if k == "unit":
            continue
        if isinstance(v, dict) and "network_steps_per_cpu_s" in v:
            lines.append(
                f"{k:>24}: {v['network_steps_per_cpu_s'] / 1e6:6.2f} M network-steps/CPU-s "
                f"(numpy path {v['numpy_network_steps_per_cpu_s'] / 1e6:.3f} M, x{v['speedup_vs_numpy']:.1f})"
                + (f", environment share {v['env_share']:.0%}" if "env_share" in v else "")
            )
            lines.append(
                f"{'':>26}{v['genomes']} genomes (the first: {v['nodes']} nodes, {v['connections']} connections), "
                f"{v['env_steps_per_generation']} environment steps per generation"
            )
        elif k == "scaling" and isinstance(v, dict):
            lines.append(
                f"{'scaling':>24}: one generation of {v.get('genomes', '?')} genomes (median wall time): "
                f"serial {v['serial_s']:.2f} s, Ray 1 worker {v['ray1_s']:.2f} s "
                f"(x{v['ray1_over_serial']:.2f} of serial), Ray 2 workers {v['ray2_s']:.2f} s "
                f"(x{v['ray2_over_serial']:.2f})"
            )
        else:
            lines.append(f"{k:>24}: {json.dumps(v)}")
    return "\n".join(lines)


COMMANDS = {
    "search": cmd_search,
    "show": inspect.cmd_show,
    "evaluate": inspect.cmd_evaluate,
    "bench": cmd_bench,
    "train": cmd_train,
    "compare": cmd_compare,
    "report": cmd_report,
    "plot": inspect.cmd_plot,
    "tasks": catalog.cmd_tasks,
}
