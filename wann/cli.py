"""The `wann` command: search | show | evaluate | train | bench."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from wann.baselines.methods import SELECTABLE
from wann.errors import ConfigError, WannError
from wann.limits import EVAL_SEED_LIMIT, MAX_BUDGET, MAX_EPISODES, MAX_WORKERS, SEED_LIMIT
from wann.seeds import TEST_SEED


def _positive(kind, lo: int = 0, hi: int | None = None):
    """An argparse type: an integer in [lo, hi] (hi: inclusive upper bound, None = no bound)."""

    def parse(s):
        try:
            v = kind(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {s!r}") from None
        if v < lo or (hi is not None and v > hi):
            bound = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {s}")
        return v

    return parse


def _widths(s: str) -> list[int]:
    try:
        widths = [int(x) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated widths such as 32,32, got {s!r}") from None
    if not widths or len(widths) > 16 or not all(1 <= w <= 100_000 for w in widths):
        raise argparse.ArgumentTypeError(f"1-16 widths of 1-100000 units, got {s!r}")
    return widths


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage goes to `wann CMD --help`)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="wann", description="Weight Agnostic Neural Network search.")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks (for bug reports)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("search", help="run (or resume) a search from an experiment file")
    s.add_argument("experiment", help="experiment TOML file (see experiments/)")
    s.add_argument("--generations", type=_positive(int, 1), help="override search.generations")
    s.add_argument("--seed", type=_positive(int, 0, SEED_LIMIT - 1), help="override the experiment's seed")
    s.add_argument("--out", help="run directory (default runs/NAME-sSEED-TIMESTAMP)")
    s.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    s.add_argument("--executor", choices=["ray", "serial"], help="override execution.executor")
    s.add_argument("--workers", type=_positive(int, 0, MAX_WORKERS), help="Ray evaluator actors (0 = one per CPU)")
    s.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    s.add_argument("--quiet", action="store_true", help="no progress display")

    sh = sub.add_parser("show", help="summarise a genome file and optionally draw it")
    sh.add_argument("genome", help="genome JSON (e.g. a run's champion.json)")
    sh.add_argument("--png", help="draw the network to this PNG file (not an existing file, unless --overwrite)")
    sh.add_argument("--overwrite", action="store_true", help="replace an existing --png file")
    sh.add_argument("--json", action="store_true", help="print the summary as JSON")

    e = sub.add_parser("evaluate", help="score a genome under the paper's weight conditions")
    e.add_argument("genome", help="genome JSON (a champion file records its task)")
    e.add_argument("--task", help="task name (default: the one the genome file records)")
    e.add_argument("--episodes", type=_positive(int, 1, MAX_EPISODES), default=100, help="fresh episodes per condition")
    e.add_argument(
        "--seed", type=_positive(int, 0, EVAL_SEED_LIMIT - 1), default=TEST_SEED, help="base seed of the fresh episodes"
    )
    e.add_argument(
        "--selection-episodes",
        type=_positive(int, 1, MAX_EPISODES),
        default=None,
        help="episodes per grid value when choosing the best shared weight (default episodes/2, >= 10)",
    )
    e.add_argument("--json", action="store_true", help="print one JSON object")

    t = sub.add_parser("train", help="train a counterpart: dense, pruned, tuned WANN, NEAT ...")
    t.add_argument("method", help="one of: " + " | ".join(SELECTABLE) + " (as in a study's methods)")
    t.add_argument("--task", help="task name (default: the champion's task)")
    t.add_argument("--champion", help="WANN champion genome JSON (its topology, and the default target count)")
    t.add_argument("--target", type=_positive(int, 1, 10**7), help="connection count for pruned/sparse/small nets")
    t.add_argument("--hidden", type=_widths, help="dense hidden widths, e.g. 32,32 (default: the task's reference)")
    t.add_argument("--init", default="default", help="init scheme of the initial weights: default | he | uniform2")
    t.add_argument(
        "--at", type=float, help="pruned_at / pruned_at_rewind: prune after this fraction of the parent's training"
    )
    t.add_argument(
        "--budget",
        type=_positive(int, 1, MAX_BUDGET),
        required=True,
        help="training episodes (RL) or epochs (classification with torch)",
    )
    t.add_argument("--seed", type=_positive(int, 0, SEED_LIMIT - 1), default=0)
    t.add_argument("--out", help="a new or empty folder (default runs/train-METHOD-sSEED-TIMESTAMP)")
    t.add_argument("--executor", choices=["ray", "serial"], default="serial")
    t.add_argument("--workers", type=_positive(int, 0, MAX_WORKERS), default=0)
    t.add_argument(
        "--episodes", type=_positive(int, 1, MAX_EPISODES), default=100, help="fresh test episodes for the score"
    )

    c = sub.add_parser("compare", help="run (or resume) a study: tasks x methods x seeds x sizes")
    c.add_argument("study", help="study TOML file (see experiments/study-small.toml)")
    c.add_argument("--out", help="results folder (default: the study's out, relative to the study file)")
    c.add_argument("--executor", choices=["ray", "serial"], help="override execution.executor")
    c.add_argument("--workers", type=_positive(int, 0, MAX_WORKERS), help="cells at once (0 = one per CPU)")
    c.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    c.add_argument("--report", action="store_true", help="write the report when the study is done")
    c.add_argument("--quiet", action="store_true", help="no progress lines")

    r = sub.add_parser("report", help="write the Markdown + HTML report of a study's results folder")
    r.add_argument("run_dir", help="a study's results folder (holds study.json and results.parquet)")
    r.add_argument("--out", help="report folder: new, empty or an earlier report (default RUN_DIR/report)")
    r.add_argument("--compare-to", help="another results folder of the study: add a 'What changed' table")

    b = sub.add_parser("bench", help="measure evaluation speed (network-timesteps per CPU-second)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--quick", action="store_true", help="smaller workload (seconds, less precise)")
    b.add_argument("--scaling", action="store_true", help="also time a generation serial vs Ray")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 done, 1 finished with failures (a study's failed cells) or
    an internal error, 2 bad input or an environment problem (one line on stderr, nothing
    changed on disk), 130 interrupted. ``--debug`` shows the traceback of any error."""
    args = build_parser().parse_args(argv)
    where = f"wann {args.command}"
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        hint = {
            "search": "finished generations are in the checkpoint (rerun with --resume)",
            "compare": "finished cells are saved; rerun the same command to resume",
        }.get(args.command, "nothing was saved")
        print(f"\ninterrupted; {hint}", file=sys.stderr)
        return 130
    except Exception as e:
        if args.debug:
            raise
        code, line = describe_error(e, args.command)
        print(f"{where}: error: {line}", file=sys.stderr)
        return code


def describe_error(e: BaseException, command: str) -> tuple[int, str]:
    """(exit code, one line) for an exception that reached the command line."""
    resume = {
        "search": "; finished generations are in the checkpoint (--resume continues)",
        "compare": "; finished cells are saved (rerun to resume)",
    }.get(command, "")
    flags = {**COMMON_FLAGS, **FLAGS.get(command, {})}
    if isinstance(e, ConfigError) and e.field in flags:
        flag = flags[e.field]
        return 2, _one_line(f"{e.source + ': ' if e.source else ''}{flag}: {e.message}")
    if isinstance(e, WannError):
        return 2, _one_line(str(e))
    if isinstance(e, OSError):
        import errno

        what = f" {e.filename}" if e.filename else ""
        if e.errno == errno.ENOSPC:
            return 2, f"no space left on the disk writing{what}: free space and rerun{resume}"
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return 2, f"not allowed to write{what} ({e.strerror}): choose a folder you can write{resume}"
        return 2, f"{e.strerror or e}{':' if what else ''}{what}{resume}"
    if isinstance(e, MemoryError):
        return 2, f"out of memory: the settings ask for more than this machine has; lower the sizes{resume}"
    if isinstance(e, RecursionError):
        return 2, "input nested too deeply (a damaged or hostile file?)"
    return 1, f"internal error {type(e).__name__}: {_one_line(str(e))} (a bug: rerun with --debug for the traceback)"


#: library errors name settings; on the command line they are these flags
COMMON_FLAGS = {
    "out": "--out",
    "resume": "--resume",
    "executor": "--executor",
    "workers": "--workers",
    "address": "--address",
}
FLAGS = {
    "train": dict(champion="--champion", target="--target", method="METHOD", init="--init", at="--at")
    | {"task.name": "--task"},
    "evaluate": {"task": "--task", "task.name": "--task"},
    "report": {"out": "--out"},
}


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


def cmd_compare(args) -> int:
    from wann.study.scheduler import run_study
    from wann.study.spec import load_study

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
    prepared = prepare(exp, out, args.resume)  # checked and locked before Ray starts
    try:
        executor = make_executor(exp, args.executor, args.workers, args.address)
    except BaseException:
        prepared.release()
        raise
    try:
        start = f"resuming at generation {prepared.state.generation}" if prepared.state else "new run"
        print(
            f"wann search: {exp.name} on {exp.task['name']}, population {exp.search.population}, "
            f"{exp.search.generations} generations, executor {type(executor).__name__}, {start} -> {out}",
            file=sys.stderr,
        )
        result = run_search(exp, out, executor=executor, resume=args.resume, progress=not args.quiet, prepared=prepared)
    finally:
        executor.close()
        prepared.release()
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
        from wann.errors import ConfigError
        from wann.files import check_writable_folder

        png = Path(args.png)
        if png.is_dir():
            raise ConfigError("--png", f"{png} is a folder; give a file name such as champion.png")
        if png.exists() and not args.overwrite:
            raise ConfigError("--png", f"{png} exists; choose another file, or pass --overwrite to replace it")
        check_writable_folder(png.parent if str(png.parent) else Path("."), "--png")

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
    from wann.genome import Genome
    from wann.measures.assess import assess, format_assessment

    g = Genome.load(args.genome)
    result = assess(
        g, task_name=args.task, episodes=args.episodes, seed=args.seed, selection_episodes=args.selection_episodes
    )
    print(json.dumps(result.to_dict(), indent=1) if args.json else format_assessment(result))
    return 0


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

    result = run_bench(quick=args.quick, scaling=args.scaling, progress=not args.json)
    print(json.dumps(result, indent=1) if args.json else _format_bench(result))
    return 0


def _format_bench(r) -> str:
    lines = []
    for k in ("fresh", "champion", "committed_champion"):
        if k not in r:
            continue
        v = r[k]
        lines.append(
            f"{k:>18}: {v['network_steps_per_cpu_s'] / 1e6:6.2f} M network-steps/CPU-s "
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
