"""Trained and pruned counterparts of WANN champions (see `rl`, `supervised`, `neat_baseline`).

`run_method(method, task, executor, budget, seed, champion=None, target=None)` returns the
`TrainResult`s a method produces (a pruning method also returns the dense net it started from).
Budget: training episodes for RL tasks, epochs for classification with torch (the counterparts
trained by CMA-ES or NEAT on a classification task count minibatch evaluations as episodes).
"""

from __future__ import annotations

from typing import Any

from wann.baselines.common import TrainResult
from wann.errors import ConfigError
from wann.genome import Genome

RL_METHODS = (
    "dense",
    "dense_large",
    "small_dense",
    "wann_best_shared",
    "wann_tuned",
    "wann_retrained",
    "pruned_magnitude",
    "pruned_taylor",
    "lottery_ticket",
    "random_sparse",
    "neat",
)
CLASSIFY_METHODS = tuple(m for m in RL_METHODS if m != "dense_large")
NEEDS_CHAMPION = ("wann_best_shared", "wann_tuned", "wann_retrained")
PROBED = ("pruned_magnitude", "pruned_taylor", "lottery_ticket", "random_sparse")
METHODS = tuple(dict.fromkeys(RL_METHODS + CLASSIFY_METHODS))


def check_method(method: str, task, champion: Genome | None, target: int | None) -> None:
    """Bad input: one ConfigError naming the field, before any work starts."""
    import difflib

    known = CLASSIFY_METHODS if task.kind == "classify" else RL_METHODS
    if method not in known:
        close = difflib.get_close_matches(method, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            "method", f"unknown method {method!r} for a {task.kind} task.{hint} Supported: {', '.join(known)}"
        )
    if method in NEEDS_CHAMPION and champion is None:
        raise ConfigError("--champion", f"{method} needs the champion genome (--champion champion.json)")
    if champion is not None and (champion.n_inputs, champion.n_outputs) != (task.n_inputs, task.n_outputs):
        raise ConfigError(
            "--champion",
            f"the champion has {champion.n_inputs} inputs / {champion.n_outputs} outputs, "
            f"{task.name} needs {task.n_inputs} / {task.n_outputs}",
        )
    needs_target = method in ("small_dense", "pruned_magnitude", "pruned_taylor", "lottery_ticket", "random_sparse")
    if needs_target and champion is None and target is None:
        raise ConfigError("--target", f"{method} needs a connection count: --target N, or --champion to use its count")


def run_method(
    method: str,
    task,
    executor,
    budget: int,
    seed: int,
    champion: Genome | None = None,
    target: int | None = None,
    progress=None,
    test_episodes: int = 100,
    hidden: list[int] | None = None,
) -> list[TrainResult]:
    """hidden: the hidden widths of the dense net that pruned / sparse methods start from
    (default: the reference shape of the task, see `rl.dense_layout` and `classify_hidden`)."""
    check_method(method, task, champion, target)
    target = target or (champion.n_connections if champion is not None else None)
    if executor is None:
        from wann.executor import SerialExecutor

        executor = SerialExecutor(task.spec())
    if task.kind == "classify" and method not in NEEDS_CHAMPION + ("neat",):
        results = _classify(method, task, budget, seed, target, hidden)
    else:
        results = _rl(method, task, executor, budget, seed, champion, target, progress, test_episodes, hidden)
    if method in PROBED:
        from wann.baselines.rl import shared_weight_probe

        # structure probe: the sparse mask with one shared weight (signs kept / all positive)
        results[0].info["shared_weight_probe"] = shared_weight_probe(
            executor, results[0].network, episodes=10, test_episodes=test_episodes
        )
    return results


def _rl(method, task, executor, budget, seed, champion, target, progress, test_episodes, hidden=None):
    from wann.baselines import rl

    kw: dict[str, Any] = {"test_episodes": test_episodes, "progress": progress}
    shapes = rl.dense_layout(task.name, task.n_inputs, task.n_outputs)
    if hidden is not None:
        shapes["dense"] = list(hidden)
    if method in ("dense", "dense_large"):
        hidden = shapes.get(method, shapes["dense"])
        return [rl.train_dense(executor, task, hidden, budget, seed, method=method, **kw)]
    if method == "small_dense":
        h = rl.small_dense_width(task.n_inputs, task.n_outputs, target)
        return [rl.train_dense(executor, task, [h], budget, seed, method="small_dense", **kw)]
    if method == "wann_best_shared":
        return [rl.best_shared(executor, task, champion, test_episodes=test_episodes)]
    if method == "wann_tuned":
        return [rl.tune_wann(executor, task, champion, budget, seed, **kw)]
    if method == "wann_retrained":
        return [rl.retrain_topology(executor, task, champion, budget, seed, **kw)]
    if method == "neat":
        from wann.baselines.neat_baseline import train_neat

        return [train_neat(executor, task, budget, seed, **kw)]
    if method == "random_sparse":
        return [rl.random_sparse(executor, task, shapes["dense"], target, budget, seed, **kw)]
    dense = rl.train_dense(executor, task, shapes["dense"], budget, seed, **kw)
    if method in ("pruned_magnitude", "pruned_taylor"):
        crit = method.removeprefix("pruned_")
        return [rl.prune(executor, task, dense, target, crit, budget, seed, **kw), dense]
    pruned = rl.prune(executor, task, dense, target, "magnitude", budget, seed, **kw)
    return [rl.lottery_ticket(executor, task, dense, pruned, budget, seed, **kw), pruned, dense]


def classify_hidden(task) -> list[int]:
    return [128] if task.n_inputs >= 32 else [32]


def _classify(method, task, epochs, seed, target, hidden=None) -> list[TrainResult]:
    import copy

    from wann.baselines import supervised as sv

    hidden = list(hidden) if hidden is not None else classify_hidden(task)
    if method == "small_dense":
        from wann.baselines.rl import small_dense_width

        h = small_dense_width(task.n_inputs, task.n_outputs, target)
        return [sv.train_dense(task, [h], epochs, seed, method="small_dense")[0]]
    if method == "random_sparse":
        return [sv.random_sparse(task, hidden, target, epochs, seed)]
    dense, model, init = sv.train_dense(task, hidden, epochs, seed)
    if method == "dense":
        return [dense]
    crit = "taylor" if method == "pruned_taylor" else "magnitude"
    pruned, mask = sv.prune(task, hidden, copy.deepcopy(model), target, crit, epochs, seed)
    if method == "lottery_ticket":
        return [sv.retrain_masked(task, hidden, mask, init, epochs, seed, "lottery_ticket"), pruned, dense]
    return [pruned, dense]
