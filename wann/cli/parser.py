"""The `wann` command line: every command, flag and help text (`build_parser`)."""

from __future__ import annotations

import argparse

from wann.limits import EVAL_SEED_LIMIT, MAX_BUDGET, MAX_EPISODES, MAX_WORKERS, SEED_LIMIT
from wann.seeds import TEST_SEED

EPILOG = """\
exit codes:
  0    done
  1    finished with failures (a study's failed cells) or an internal error (a bug: rerun with --debug)
  2    bad input or an environment problem (one line on stderr naming the flag or field; nothing changed)
  130  interrupted (Ctrl-C or SIGINT; one line on stderr saying what was saved)
  143  terminated (SIGTERM, e.g. `kill` or a scheduler; the same line)

`wann COMMAND --help` describes a command's flags."""


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


def _seeds(s: str) -> list[int]:
    """A study slice's seeds: comma-separated integers in [0, SEED_LIMIT)."""
    try:
        seeds = [int(x) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated seeds such as 0,1,2, got {s!r}") from None
    bad = [x for x in seeds if not 0 <= x < SEED_LIMIT]
    if bad:
        raise argparse.ArgumentTypeError(f"seeds must be in [0, {SEED_LIMIT - 1}], got {bad[0]}")
    return seeds


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage goes to `wann CMD --help`)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wann")
    except PackageNotFoundError:  # run from a source tree that was never installed
        import wann

        return wann.__version__


def build_parser() -> argparse.ArgumentParser:
    from wann.baselines.methods import SELECTABLE

    p = _Parser(
        prog="wann",
        description="Weight Agnostic Neural Network search.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"wann {_version()}", help="print the version and exit")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks (for bug reports)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    executor = {"choices": ["ray", "serial"], "help": "override execution.executor (serial: in this process)"}
    address = "Ray cluster address (default: RAY_ADDRESS, else a local Ray)"

    s = sub.add_parser("search", help="run (or resume) a search from an experiment file")
    s.add_argument("experiment", help="experiment TOML file (see experiments/)")
    s.add_argument("--generations", type=_positive(int, 1), help="override search.generations")
    s.add_argument("--seed", type=_positive(int, 0, SEED_LIMIT - 1), help="override the experiment's seed")
    s.add_argument("--out", help="run directory (default runs/NAME-sSEED-TIMESTAMP)")
    s.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    s.add_argument("--executor", **executor)
    s.add_argument(
        "--workers",
        type=_positive(int, 0, MAX_WORKERS),
        help="Ray evaluator actors (0 = one per CPU; an island run: in all, split over the islands)",
    )
    s.add_argument("--address", help=address)
    s.add_argument("--quiet", action="store_true", help="no progress display")
    s.add_argument("--tensorboard", metavar="DIR", help="also write TensorBoard event files to DIR/<run folder name>")

    model = "genome JSON (a run's champion.json) or network JSON (a `wann train` folder's METHOD.json)"
    sh = sub.add_parser("show", help="summarise a genome or network file and optionally draw it")
    sh.add_argument("genome", metavar="FILE", help=model)
    sh.add_argument("--png", help="draw the network to this PNG file (not an existing file, unless --overwrite)")
    sh.add_argument("--overwrite", action="store_true", help="replace an existing --png file")
    sh.add_argument("--json", action="store_true", help="print the summary as JSON")
    sh.add_argument("--task", help="task that names the inputs (default: the one the file records)")

    e = sub.add_parser("evaluate", help="score a genome under the paper's weight conditions, or a network as trained")
    e.add_argument("genome", metavar="FILE", help=model + "; a file records its task")
    e.add_argument("--task", help="task name (default: the one the file records)")
    e.add_argument(
        "--episodes",
        type=_positive(int, 1, MAX_EPISODES),
        default=100,
        help="fresh episodes per condition (default 100); random-weight draws on classification tasks",
    )
    e.add_argument(
        "--seed",
        type=_positive(int, 0, EVAL_SEED_LIMIT - 1),
        default=TEST_SEED,
        help=f"base seed of the fresh episodes (default {TEST_SEED}, never used by a search)",
    )
    e.add_argument(
        "--selection-episodes",
        type=_positive(int, 1, MAX_EPISODES),
        default=None,
        help="genomes: episodes per grid value when choosing the best shared weight (default episodes/2, >= 10)",
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
    t.add_argument("--seed", type=_positive(int, 0, SEED_LIMIT - 1), default=0, help="training seed (default 0)")
    t.add_argument("--out", help="a new or empty folder (default runs/train-METHOD-sSEED-TIMESTAMP)")
    t.add_argument(
        "--executor", choices=["ray", "serial"], default="serial", help="where episodes run (default serial)"
    )
    t.add_argument(
        "--workers", type=_positive(int, 0, MAX_WORKERS), default=0, help="Ray evaluator actors (0 = one per CPU)"
    )
    t.add_argument(
        "--episodes", type=_positive(int, 1, MAX_EPISODES), default=100, help="fresh test episodes for the score"
    )

    c = sub.add_parser("compare", help="run (or resume) a study: tasks x methods x seeds x sizes")
    c.add_argument("study", help="study TOML file (see experiments/study-small.toml)")
    c.add_argument(
        "--out", help="results folder (default runs/NAME; a study file's own out, relative to it, if it sets one)"
    )
    c.add_argument("--executor", **executor)
    c.add_argument("--workers", type=_positive(int, 0, MAX_WORKERS), help="cells at once (0 = one per CPU)")
    c.add_argument("--address", help=address)
    c.add_argument("--tasks", type=lambda v: v.split(","), help="run only these task labels (a slice: a,b)")
    c.add_argument("--seeds", type=_seeds, help="run only these seeds (a slice: 0,1,2)")
    c.add_argument("--max-cells", type=_positive(int, 1), help="stop after this many cells (rerun to resume)")
    c.add_argument("--report", action="store_true", help="write the report when the study is done")
    c.add_argument("--quiet", action="store_true", help="no progress lines")
    c.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write the study's TensorBoard event files to DIR/<name>, each search cell's to "
        "DIR/<name>/searches/<task>-s<seed>",
    )

    r = sub.add_parser("report", help="write the Markdown + HTML report of a study's results folder")
    r.add_argument("run_dir", help="a study's results folder (holds study.json and results.parquet)")
    r.add_argument("--out", help="report folder: new, empty or an earlier report (default RUN_DIR/report)")
    r.add_argument("--compare-to", help="another results folder of the study: add a 'What changed' table")

    pl = sub.add_parser("plot", help="plot runs' metrics.csv: fitness, connections and episodes per generation")
    pl.add_argument("runs", nargs="+", metavar="RUN", help="run folders of `wann search` (or their metrics.csv)")
    pl.add_argument("--out", default="metrics.png", help="PNG file to write (default metrics.png)")
    pl.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    ta = sub.add_parser("tasks", help="list the supported tasks with their sizes, and the Gymnasium ids refused")
    ta.add_argument("--json", action="store_true", help="print one JSON object")

    b = sub.add_parser("bench", help="measure evaluation speed (network-timesteps per CPU-second)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--quick", action="store_true", help="smaller workload (seconds, less precise)")
    b.add_argument("--scaling", action="store_true", help="also time a generation serial vs Ray")
    b.add_argument(
        "--task",
        help="only this task: wann/CartPoleSwingUp-v0 or a classic-control id (CartPole-v1, Acrobot-v1, "
        "Pendulum-v1, MountainCar-v0, MountainCarContinuous-v0); default all",
    )
    return p
