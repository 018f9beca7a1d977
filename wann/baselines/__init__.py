"""Trained and pruned counterparts of WANN champions.

The methods are declared once in `methods` (name, label, colour, task kinds, champion, sizes,
parent) and made by their recipes in `recipes`; the engines live beside them (`rl` and `cmaes`:
CMA-ES on episodes, `rl_pruning`: its pruned nets and tickets, `pruning`: masks, `supervised`:
torch, `supervised_pruning`: its pruned nets and tickets, `neat_baseline`: neat-python).

`run_method(method, task, executor, budget, seed, champion=None, target=None)` returns the
`TrainResult`s a method produces (a pruning method also returns the dense net it started from).
Budget: training episodes for RL tasks, epochs for classification with torch (the counterparts
trained by CMA-ES or NEAT on a classification task count minibatch evaluations as episodes).
"""

from __future__ import annotations

from wann.baselines.common import TrainResult
from wann.baselines.methods import check_name
from wann.errors import ConfigError
from wann.genome import Genome
from wann.weighted import live_connections


def check_method(
    method: str, task, champion: Genome | None, target: int | None, init: str = "default", at: float | None = None
) -> None:
    """Bad input: one ConfigError naming the field, before any work starts."""
    from wann.baselines.inits import check_scheme

    m = check_name(method, "method", task.kind)
    check_scheme(init, "init")
    if init != "default" and not m.inits:
        raise ConfigError("init", f"{method} draws no initial weights of its own; drop the init scheme")
    if m.timed and at is None:
        raise ConfigError("at", f"{method} is pruned after a fraction of its parent's training: give it (--at 0.25)")
    if at is not None and not m.timed:
        raise ConfigError(
            "at", f"{method} is not pruned at a time in training; drop it (only pruned_at, pruned_at_rewind)"
        )
    if at is not None and not 0 < at <= 1:
        raise ConfigError("at", f"a fraction of the parent's training in (0, 1], got {at!r}")
    if m.needs_champion and champion is None:
        raise ConfigError("champion", f"{method} needs the champion genome (--champion champion.json)")
    if champion is not None and (champion.n_inputs, champion.n_outputs) != (task.n_inputs, task.n_outputs):
        raise ConfigError(
            "champion",
            f"the champion has {champion.n_inputs} inputs / {champion.n_outputs} outputs, "
            f"{task.name} needs {task.n_inputs} / {task.n_outputs}",
        )
    if m.sized and champion is None and target is None:
        raise ConfigError("target", f"{method} needs a connection count: --target N, or --champion to use its count")


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
    init: str = "default",
    at: float | None = None,
) -> list[TrainResult]:
    """Train (or assess) `method` on its own, parents included. hidden: the hidden widths of the
    dense net (and of the dense net pruned / sparse methods start from; default: the task's
    reference shape, see `rl.dense_layout` and `recipes.classify_hidden`). init: the init scheme
    (`wann.baselines.inits.SCHEMES`); at: the prune time of `pruned_at` / `pruned_at_rewind`."""
    from wann.baselines import recipes

    check_method(method, task, champion, target, init, at)
    target = target or (live_connections(champion) if champion is not None else None)
    if executor is None:
        from wann.executor import SerialExecutor

        executor = SerialExecutor(task.spec())
    ctx = recipes.Context(
        task,
        executor,
        seed,
        budget,
        budget,
        champion,
        target,
        hidden,
        test_episodes=test_episodes,
        progress=progress,
        init=init,
        at=at,
    )
    return recipes.run(method, ctx)


def train(
    method: str,
    task,
    budget: int,
    seed: int = 0,
    champion: Genome | None = None,
    target: int | None = None,
    executor=None,
    hidden: list[int] | None = None,
    test_episodes: int = 100,
    progress=None,
    init: str = "default",
    at: float | None = None,
) -> list[TrainResult]:
    """Train (or assess) one method of the registry (`wann.baselines.methods`) on `task`, as
    `wann train` does. init: the init scheme ('default', 'he', 'uniform2'); at: the prune time of
    the timed methods (a fraction of the dense parent's training in (0, 1]). budget: training
    episodes (RL), or epochs for classification with torch
    (CMA-ES / NEAT on classification: minibatch evaluations). champion: the WANN genome the
    wann_* methods need (and whose connection count sized methods default to); target: the
    connection count of sized methods; hidden: dense widths. Returns the method's result first
    (`TrainResult`: network, score on fresh test episodes, budget, checkpoints), then any
    parent it trained. executor: default a `SerialExecutor` on the task."""
    return run_method(method, task, executor, budget, seed, champion, target, progress, test_episodes, hidden, init, at)
