"""`wann show`, `wann evaluate` and `wann plot`: look at genome and network files, and at runs.

A genome file (``wann.genome/1``: a topology with one shared weight, as `wann search` writes
champion.json) and a network file (``wann.network/1``: a genome plus one weight per connection,
as `wann train` writes METHOD.json) are accepted alike (`read_model`). A genome is evaluated
under the paper's weight conditions (`wann.measures.assess`); a network with its own weights:
the mean return over fresh episodes (RL), or the test accuracy (classification).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from wann.errors import ConfigError, GenomeError, WannError

GENOME_FORMAT, NETWORK_FORMAT = "wann.genome/1", "wann.network/1"
_GENOME_KEYS = ("inputs", "outputs", "nodes", "connections")


def _peek(path: Path) -> Any:
    """The parsed JSON of `path`, or None when it cannot be read or parsed (`Genome.load` then
    says why, in its own words)."""
    from wann.files import read_text

    try:
        return json.loads(read_text(path, "genome", "genome file"))
    except (WannError, ValueError, RecursionError):
        return None


def read_model(path: str | Path):
    """A `Genome` (genome file) or a `WeightedNetwork` (network file); GenomeError naming both
    formats for any other JSON."""
    from wann.genome import Genome

    p = Path(path)
    data = _peek(p)
    if not isinstance(data, dict):
        return Genome.load(p)  # unreadable, not JSON, not an object: its own message
    fmt = data.get("format")
    if fmt == NETWORK_FORMAT:
        return _network(data, str(p))
    if fmt == GENOME_FORMAT or ("format" not in data and any(k in data for k in _GENOME_KEYS)):
        return Genome.load(p)
    if "format" in data:
        what = f"its format is {data['format']!r}"
    elif {"results", "method"} <= set(data):
        what = "it is a `wann train` result.json (its networks are the METHOD.json files beside it)"
    elif data:
        what = f"it has no format key (its keys: {', '.join(map(str, list(data)[:6]))})"
    else:
        what = "it is an empty JSON object"
    raise GenomeError(
        f"{p}: not a genome or network file: {what}; give a genome file ({GENOME_FORMAT}, a run's champion.json) "
        f"or a network file ({NETWORK_FORMAT}, a `wann train` folder's METHOD.json)"
    )


def _network(data: dict, where: str):
    from wann.weighted import WeightedNetwork

    if not isinstance(data.get("genome"), dict):
        raise GenomeError(f"{where}.genome: missing, or not a JSON object (the network's topology)")
    w = data.get("weights")
    ok = isinstance(w, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in w)
    if not ok or not all(math.isfinite(x) for x in w):
        raise GenomeError(f"{where}.weights: expected a list of finite numbers, one per connection")
    if not isinstance(data.get("meta", {}), dict):
        raise GenomeError(f"{where}.meta: expected a JSON object")
    return WeightedNetwork.from_dict(data, where)


def _split(model):
    """(genome, network or None)."""
    from wann.weighted import WeightedNetwork

    return (model.genome, model) if isinstance(model, WeightedNetwork) else (model, None)


def recorded_task(model, path: str | Path) -> dict | None:
    """The task spec a file records: the network's meta, its genome's meta, or (a network of
    `wann train`) the result.json beside it."""
    genome, net = _split(model)
    for meta in ([net.meta] if net is not None else []) + [genome.meta]:
        if isinstance(meta.get("task"), dict):
            return meta["task"]
    result = Path(path).parent / "result.json"
    if net is not None and result.is_file():
        try:
            spec = json.loads(result.read_text()).get("task")
        except (OSError, ValueError, AttributeError):
            return None
        return spec if isinstance(spec, dict) else None
    return None


def _check_io(task, genome, flag: str) -> None:
    if (task.n_inputs, task.n_outputs) != (genome.n_inputs, genome.n_outputs):
        raise ConfigError(
            flag,
            f"{task.name} needs {task.n_inputs} inputs and {task.n_outputs} outputs; "
            f"the file has {genome.n_inputs} and {genome.n_outputs}",
        )


def check_new_png(png: Path, flag: str, overwrite: bool, example: str) -> None:
    """ConfigError(flag) unless `png` can be written: not a folder, not an existing file (unless
    `overwrite`), in a folder this user can write."""
    from wann.files import check_writable_folder

    if png.is_dir():
        raise ConfigError(flag, f"{png} is a folder; give a file name such as {example}")
    if png.exists() and not overwrite:
        raise ConfigError(flag, f"{png} exists; choose another file, or pass --overwrite to replace it")
    check_writable_folder(png.parent if str(png.parent) else Path("."), flag)


def _short(v: Any) -> Any:
    """Meta values as show prints them: long lists (weights, masks, snapshots) as a count."""
    if isinstance(v, list) and len(v) > 12:
        return f"<{len(v)} values>"
    if isinstance(v, dict):
        return {k: _short(x) for k, x in v.items()}
    return v


def _input_names(args, model, genome) -> tuple[list[str], Any]:
    """Input labels (the task's, else in1..inN, as the drawing has them) and the task (or None)."""
    from wann.tasks import make_task, task_from_spec

    default = [f"in{i}" for i in range(1, genome.n_inputs + 1)]
    task = None
    if args.task:
        try:
            task = make_task(args.task)
        except ConfigError as e:
            raise ConfigError("--task", e.message) from None
        _check_io(task, genome, "--task")
    else:
        spec = recorded_task(model, args.genome)
        if spec is not None:
            try:
                task = task_from_spec(spec)
            except WannError as e:
                print(f"wann show: note: inputs unnamed; the recorded task cannot be built ({e})", file=sys.stderr)
                return default, None
            if (task.n_inputs, task.n_outputs) != (genome.n_inputs, genome.n_outputs):
                return default, None
    names = list(task.input_names) if task is not None else []
    return (names if len(names) == genome.n_inputs else default), task


def _inputs_text(names: list[str], n_inputs: int) -> str:
    if len(names) <= 16:
        return f"{len(names)} of {n_inputs}: {', '.join(names)}"
    return f"{len(names)} of {n_inputs}"


def cmd_show(args) -> int:
    import numpy as np

    from wann.genome import summary

    model = read_model(args.genome)
    g, net = _split(model)
    png = Path(args.png) if args.png else None
    if png is not None:
        check_new_png(png, "--png", args.overwrite, "champion.png")
    names, task = _input_names(args, model, g)
    info = summary(g)
    used_ids = info["inputs_used"]
    info["inputs_used"] = [names[i - 1] for i in used_ids]
    unused = [names[i - 1] for i in range(1, g.n_inputs + 1) if i not in set(used_ids)]
    if net is not None:
        from wann.weighted import structure_counts

        w = net.weights[net.mask] if net.mask.any() else np.zeros(1)
        info = {"file": f"network ({NETWORK_FORMAT}): a genome with one weight per connection", **info}
        info["live"] = structure_counts(g)
        info["weights"] = {
            "min": float(w.min()),
            "max": float(w.max()),
            "mean_abs": float(np.abs(w).mean()),
            "zero": int((w == 0).sum()),
        }
        if net.meta:
            info["network_meta"] = _short(net.meta)
    if g.meta:
        info["meta"] = {k: v for k, v in g.meta.items() if k != "rewards_per_weight"}
    if png is not None:
        from wann.draw import draw

        outputs = [f"class {k}" for k in range(g.n_outputs)] if getattr(task, "kind", "") == "classify" else None
        title = None
        if net is not None:
            live = structure_counts(g)
            title = (
                f"{net.meta.get('method', 'network')}: {live['connections']} live connections, "
                f"{live['hidden_nodes']} hidden nodes, its own weights"
            )
        draw(g, png, input_names=names, weights=None if net is None else net.weights, output_names=outputs, title=title)
        info["png"] = args.png
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        for k, v in info.items():
            if k == "inputs_used":
                v = _inputs_text(v, g.n_inputs) + (f"; unused: {', '.join(unused)}" if 0 < len(unused) <= 16 else "")
            print(f"{k:>20}: {v}")
    return 0


def cmd_evaluate(args) -> int:
    from wann.measures.assess import assess, format_assessment

    model = read_model(args.genome)
    genome, net = _split(model)
    if net is not None:
        result = evaluate_network(net, args.genome, args.task, args.episodes, args.seed, args.selection_episodes)
        print(json.dumps(result, indent=1) if args.json else format_network_score(result))
        return 0
    result = assess(
        genome, task_name=args.task, episodes=args.episodes, seed=args.seed, selection_episodes=args.selection_episodes
    )
    print(json.dumps(result.to_dict(), indent=1) if args.json else format_assessment(result))
    return 0


def evaluate_network(net, path, task_name: str | None, episodes: int, seed: int, selection=None) -> dict[str, Any]:
    """A network scored with its own weights: RL, mean +- SD of the return over `episodes` fresh
    episodes (reset seeds seed .. seed + episodes - 1, as `wann train` scores it); classification,
    the accuracy on the held-out test split."""
    import numpy as np

    from wann.tasks import make_task, task_from_spec
    from wann.weighted import structure_counts

    if selection is not None:
        raise ConfigError(
            "--selection-episodes", "applies to genome files (choosing a shared weight); a network has its own weights"
        )
    if task_name:
        task = make_task(task_name)
    else:
        spec = recorded_task(net, path)
        if spec is None:
            raise ConfigError("task", f"{path} records no task (nor does a result.json beside it); name it with --task")
        task = task_from_spec(spec)
    _check_io(task, net.genome, "task")
    counts = structure_counts(net.genome)
    out: dict[str, Any] = {
        "file": NETWORK_FORMAT,
        "task": task.spec(),
        "method": net.meta.get("method"),
        "connections": counts["connections"],
        "enabled_connections": net.genome.n_connections,
        "nodes": net.genome.n_nodes,
    }
    if getattr(task, "kind", "") == "classify":
        acc = float(task.accuracy(net.genome, conn_weights=net.weights, split="test"))
        n_test, n_train = len(task.y_test), len(task.y_train)
        return {**out, "metric": "accuracy", "test_samples": n_test, "train_samples": n_train, "accuracy": acc}
    from wann.evaluate import evaluate_weights

    rewards, steps = evaluate_weights(task, net.genome, net.weights[None, :], list(range(seed, seed + episodes)))
    r = rewards[0]
    sd = float(r.std(ddof=1)) if r.size > 1 else 0.0
    score = {"mean": float(r.mean()), "sd": sd, "min": float(r.min()), "max": float(r.max())}
    return {
        **out,
        "metric": "return",
        "episodes": episodes,
        "seed": seed,
        "score": score,
        "mean_steps": float(np.mean(steps)),
    }


def format_network_score(r: dict[str, Any]) -> str:
    """The text `wann evaluate` prints for a network file."""
    head = f"network {r['method'] or ''} on {r['task']['name']}, {r['connections']} connections, its own weights"
    if r["metric"] == "accuracy":
        return (
            f"{head}\n  accuracy on the {r['test_samples']} held-out test samples "
            f"({r['train_samples']} training samples): {100 * r['accuracy']:6.2f} %"
        )
    s = r["score"]
    return (
        f"{head}, {r['episodes']} fresh episodes (seeds {r['seed']}..{r['seed'] + r['episodes'] - 1})\n"
        f"  return: {s['mean']:9.2f} +- {s['sd']:.2f}  (min {s['min']:.2f}, max {s['max']:.2f}, "
        f"{r['mean_steps']:.0f} steps per episode)"
    )


def cmd_plot(args) -> int:
    from wann.analysis.run_plot import plot_runs

    out = Path(args.out)
    check_new_png(out, "--out", args.overwrite, "metrics.png")
    path = plot_runs(args.runs, out)
    print(f"plot: {path} ({len(args.runs)} run{'s' if len(args.runs) > 1 else ''})")
    return 0
