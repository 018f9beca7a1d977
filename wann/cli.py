"""The `wann` command: search | show | evaluate | train | bench."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from wann.errors import WannError


def _positive(kind):
    def parse(s):
        try:
            v = kind(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {s!r}") from None
        if v < (0 if kind is int else 0):
            raise argparse.ArgumentTypeError(f"must be >= 0, got {s}")
        return v

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wann", description="Weight Agnostic Neural Network search.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("search", help="run (or resume) a search from an experiment file")
    s.add_argument("experiment", help="experiment TOML file (see experiments/)")
    s.add_argument("--generations", type=_positive(int), help="override search.generations")
    s.add_argument("--seed", type=_positive(int), help="override the experiment's seed")
    s.add_argument("--out", help="run directory (default runs/NAME-sSEED-TIMESTAMP)")
    s.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    s.add_argument("--executor", choices=["ray", "serial"], help="override execution.executor")
    s.add_argument("--workers", type=_positive(int), help="Ray evaluator actors (0 = one per CPU)")
    s.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    s.add_argument("--quiet", action="store_true", help="no progress display")

    sh = sub.add_parser("show", help="summarise a genome file and optionally draw it")
    sh.add_argument("genome", help="genome JSON (e.g. a run's champion.json)")
    sh.add_argument("--png", help="draw the network to this PNG file")
    sh.add_argument("--json", action="store_true", help="print the summary as JSON")

    e = sub.add_parser("evaluate", help="score a genome under the paper's weight conditions")
    e.add_argument("genome", help="genome JSON (a champion file records its task)")
    e.add_argument("--task", help="task name (default: the one the genome file records)")
    e.add_argument("--episodes", type=_positive(int), default=100, help="fresh episodes per condition")
    e.add_argument("--seed", type=_positive(int), default=2**20, help="base seed of the fresh episodes")
    e.add_argument(
        "--selection-episodes",
        type=_positive(int),
        default=None,
        help="episodes per grid value when choosing the best shared weight (default episodes/2, >= 10)",
    )
    e.add_argument("--json", action="store_true", help="print one JSON object")

    t = sub.add_parser("train", help="train a counterpart: dense, pruned, tuned WANN, NEAT ...")
    t.add_argument(
        "method",
        help="dense | dense_large | small_dense | wann_best_shared | wann_tuned | "
        "wann_retrained | pruned_magnitude | pruned_taylor | lottery_ticket | random_sparse | neat",
    )
    t.add_argument("--task", help="task name (default: the champion's task)")
    t.add_argument("--champion", help="WANN champion genome JSON (its topology, and the default target count)")
    t.add_argument("--target", type=_positive(int), help="connection count for pruned/sparse/small nets")
    t.add_argument(
        "--budget",
        type=_positive(int),
        required=True,
        help="training episodes (RL) or epochs (classification with torch)",
    )
    t.add_argument("--seed", type=_positive(int), default=0)
    t.add_argument("--out", help="run directory (default runs/train-METHOD-sSEED-TIMESTAMP)")
    t.add_argument("--executor", choices=["ray", "serial"], default="serial")
    t.add_argument("--workers", type=_positive(int), default=0)
    t.add_argument("--episodes", type=_positive(int), default=100, help="fresh test episodes for the score")

    c = sub.add_parser("compare", help="run (or resume) a study: tasks x methods x seeds x sizes")
    c.add_argument("study", help="study TOML file (see experiments/study-small.toml)")
    c.add_argument("--out", help="results folder (default: the study's out, relative to the study file)")
    c.add_argument("--executor", choices=["ray", "serial"], help="override execution.executor")
    c.add_argument("--workers", type=_positive(int), help="cells at once (0 = one per CPU)")
    c.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    c.add_argument("--report", action="store_true", help="write the report when the study is done")
    c.add_argument("--quiet", action="store_true", help="no progress lines")

    r = sub.add_parser("report", help="write the Markdown + HTML report of a study's results folder")
    r.add_argument("run_dir", help="a study's results folder (holds study.json and results.parquet)")
    r.add_argument("--out", help="report folder (default RUN_DIR/report)")

    b = sub.add_parser("bench", help="measure evaluation speed (network-timesteps per CPU-second)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--quick", action="store_true", help="smaller workload (seconds, less precise)")
    b.add_argument("--scaling", action="store_true", help="also time a generation serial vs Ray")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except WannError as e:
        print(f"wann {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = {
            "search": "finished generations are in the checkpoint (rerun with --resume)",
            "compare": "finished cells are saved; rerun the same command to resume",
        }.get(args.command, "nothing was saved")
        print(f"\ninterrupted; {hint}", file=sys.stderr)
        return 130


def cmd_compare(args) -> int:
    from wann.compare import run_study
    from wann.study import load_study

    study = load_study(args.study, out=args.out)
    res = run_study(study, executor=args.executor, workers=args.workers, address=args.address, progress=not args.quiet)
    if args.report and not res.failed and not res.skipped:
        from wann.analysis.report import write_report

        md = write_report(res.out)
        print(f"report: {md}")
    print(f"results: {res.table}")
    return 1 if res.failed or res.skipped else 0


def cmd_report(args) -> int:
    from wann.analysis.report import write_report

    md = write_report(args.run_dir, args.out)
    print(f"report: {md} (and {md.with_suffix('.html')})")
    return 0


def cmd_search(args) -> int:
    from wann.experiment import load_experiment
    from wann.runner import make_executor, prepare, run_search

    exp = load_experiment(args.experiment)
    if args.generations is not None:
        if args.generations < 1:
            from wann.errors import ConfigError

            raise ConfigError("--generations", "must be >= 1")
        exp = exp.replace(search=_replace(exp.search, generations=args.generations))
    if args.seed is not None:
        exp = exp.replace(seed=args.seed)
    if args.resume and not args.out:
        from wann.errors import ConfigError

        raise ConfigError("--resume", "needs --out RUN_DIR naming the run to continue")
    out = Path(args.out) if args.out else Path("runs") / f"{exp.name}-s{exp.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    prepare(exp, out, args.resume)  # bad run directory: fail before starting Ray
    executor = make_executor(exp, args.executor, args.workers, args.address)
    try:
        print(
            f"wann search: {exp.name} on {exp.task['name']}, population {exp.search.population}, "
            f"{exp.search.generations} generations, executor {type(executor).__name__} -> {out}",
            file=sys.stderr,
        )
        result = run_search(exp, out, executor=executor, resume=args.resume, progress=not args.quiet)
    finally:
        executor.close()
    st = result.state
    print(
        f"done: {st.generation} generations, best mean reward {st.best_fitness:.2f} "
        f"({st.best.n_connections if st.best else 0} connections), {st.episodes} episodes, "
        f"{result.wall_s:.1f} s"
    )
    print(f"results: {out}/  (champion.json, metrics.csv, checkpoint.json)")
    print(f"next: wann evaluate {out}/champion.json   |   wann show {out}/champion.json --png champion.png")
    return 0


def _replace(obj, **kw):
    import dataclasses

    return dataclasses.replace(obj, **kw)


def cmd_show(args) -> int:
    from wann.genome import Genome, summary

    g = Genome.load(args.genome)
    info = summary(g)
    if g.meta:
        info["meta"] = {k: v for k, v in g.meta.items() if k != "rewards_per_weight"}
    if args.png:
        from wann.draw import draw

        names = None
        if isinstance(g.meta.get("task"), dict):
            from wann.tasks import task_from_spec

            names = list(task_from_spec(g.meta["task"]).input_names) or None
        draw(g, args.png, input_names=names)
        info["png"] = args.png
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        for k, v in info.items():
            print(f"{k:>20}: {v}")
    return 0


def cmd_evaluate(args) -> int:
    from wann.assess import assess, format_assessment
    from wann.genome import Genome

    g = Genome.load(args.genome)
    if args.episodes < 1:
        from wann.errors import ConfigError

        raise ConfigError("--episodes", "must be >= 1")
    result = assess(
        g, task_name=args.task, episodes=args.episodes, seed=args.seed, selection_episodes=args.selection_episodes
    )
    print(json.dumps(result, indent=1) if args.json else format_assessment(result))
    return 0


def cmd_train(args) -> int:
    from wann.baselines import run_method
    from wann.errors import ConfigError
    from wann.genome import Genome
    from wann.store import atomic_write_text
    from wann.tasks import make_task, task_from_spec

    champion = Genome.load(args.champion) if args.champion else None
    if args.task:
        task = make_task(args.task)
    elif champion is not None and isinstance(champion.meta.get("task"), dict):
        task = task_from_spec(champion.meta["task"])
    else:
        raise ConfigError("--task", "name the task (--task), or give --champion whose file records it")
    if args.budget < 1:
        raise ConfigError("--budget", "must be >= 1")
    from wann.baselines import check_method

    check_method(args.method, task, champion, args.target)
    out = (
        Path(args.out)
        if args.out
        else Path("runs") / f"train-{args.method}-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    if (out / "result.json").exists():
        raise ConfigError("--out", f"{out} already holds a result; choose another --out (nothing was changed)")
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
        )
    finally:
        executor.close()
    out.mkdir(parents=True, exist_ok=True)
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
    main_r = results[0]
    sc = main_r.score
    what = f"accuracy {sc['accuracy']:.4f}" if "accuracy" in sc else f"{sc['mean']:.2f} +- {sc['sd']:.2f}"
    print(
        f"{args.method} on {task.name}: {what}, {main_r.network.connections} connections, "
        f"{main_r.budget.episodes} training episodes, {main_r.budget.cpu_s:.1f} CPU-s"
    )
    print(f"results: {out}/  (result.json, {main_r.method}.json)")
    return 0


def cmd_bench(args) -> int:
    from wann.bench import run_bench

    result = run_bench(quick=args.quick, scaling=args.scaling, progress=not args.json)
    print(json.dumps(result, indent=1) if args.json else _format_bench(result))
    return 0


def _format_bench(r) -> str:
    lines = []
    for k in ("fresh", "champion"):
        v = r[k]
        lines.append(
            f"{k:>9}: {v['network_steps_per_cpu_s'] / 1e6:6.2f} M network-steps/CPU-s "
            f"(numpy path {v['numpy_network_steps_per_cpu_s'] / 1e6:.3f} M, x{v['speedup_vs_numpy']:.0f}), "
            f"environment share {v['env_share']:.0%}"
        )
    if "scaling" in r:
        s = r["scaling"]
        lines.append(
            f"  scaling: serial {s['serial_s']:.2f} s, ray1 {s['ray1_s']:.2f} s, ray2 {s['ray2_s']:.2f} s "
            f"(ray2/serial {s['ray2_over_serial']:.2f})"
        )
    return "\n".join(lines)


COMMANDS = {
    "search": cmd_search,
    "show": cmd_show,
    "evaluate": cmd_evaluate,
    "bench": cmd_bench,
    "train": cmd_train,
    "compare": cmd_compare,
    "report": cmd_report,
}

if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    sys.exit(main())
