"""`wann bench`: evaluation speed, measured side by side with the plain-numpy path.

Network-timesteps = one forward pass of one network for one environment step; the figures are
per CPU-second of this process (time.process_time), environment included, single process.

- fresh: the initial population of the paper's swing-up search (192 genomes, no hidden nodes),
  6 shared weights x 3 rollouts.
- champion: 64 champion-sized genomes (29 nodes, 52 connections, built by seeded mutation),
  6 x 3 rollouts.
- committed_champion: the committed swing-up champion (package data `wann/data/`; full-length
  episodes, the real late-search workload).
- env_share: time of the physics alone (same number of steps) over the total.
- numpy path: the same genomes through `forward_numpy` + `CartPoleSwingUpVec`, on a subset.
- tasks: each classic-control task (CartPole-v1, Acrobot-v1, Pendulum-v1, MountainCar-v0,
  MountainCarContinuous-v0) on 64 champion-sized genomes for its inputs and outputs (29 nodes,
  52 connections), 6 x 3 rollouts: the fused kernel (``kernel = "fused"``) against the numpy
  twin stepped from Python (``kernel = "numpy"``), compilation of the genomes included in both.
- scaling (--scaling): one generation's wall time serial vs Ray with 1 and 2 workers.

The machine may be shared and noisy: the claim is the ratio of the two paths measured side by
side in one run, not the absolute rates.

`wann bench` prints every figure of `run_bench`: as text (the unit, then per workload its speed,
the numpy path's speed and the speed-up, the environment share and the workload's size; the
scaling times and both ratios), or the whole dict with --json.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from wann.evaluate import evaluate
from wann.genome import Genome
from wann.search.variation import VariationSettings, add_connection, insert_node
from wann.seeds import DEFAULT_SHARED_WEIGHTS
from wann.tasks import make_task, swingup

#: the committed swing-up champion (experiments/results/swingup-paper/champion.json), shipped as package data
COMMITTED_CHAMPION = Path(__file__).resolve().parent / "data" / "swingup_champion.json"
WEIGHTS = DEFAULT_SHARED_WEIGHTS
SEEDS = (11, 12, 13)


def fresh_population(n: int = 192, seed: int = 0) -> list[Genome]:
    rng = np.random.default_rng(seed)
    return [Genome.initial(5, 1, rng, 0.5) for _ in range(n)]


#: classic-control tasks with a fused kernel, benchmarked against their numpy twins
CONTROL_TASKS = ("CartPole-v1", "Acrobot-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0")
SWINGUP = "wann/CartPoleSwingUp-v0"


def champion_sized(
    n: int = 64, hidden: int = 22, connections: int = 52, seed: int = 0, n_inputs: int = 5, n_outputs: int = 1
) -> list[Genome]:
    """Genomes of 1 + n_inputs + n_outputs + `hidden` nodes and `connections` enabled
    connections, grown by mutation (defaults: the swing-up champion's 29 nodes and 52 connections)."""
    rng = np.random.default_rng(seed)
    s = VariationSettings()
    out = []
    while len(out) < n:
        g = Genome.initial(n_inputs, n_outputs, rng, 0.5)
        while len(g.hidden) < hidden:
            g = insert_node(g, rng, s) or g
        while g.n_connections < connections:
            nxt = add_connection(g, rng, s)
            if nxt is None:
                break
            g = nxt
        if g.n_connections == connections:
            out.append(g)
    return out


def late_search_population(n: int = 192, seed: int = 0) -> list[Genome]:
    """A late-search generation: one-mutation children of the committed swing-up champion (most
    run full 1000-step episodes); champion-sized genomes when no champion is committed."""
    if not COMMITTED_CHAMPION.exists():
        return champion_sized(n, seed=seed)
    from wann.search.variation import mutate

    champ = Genome.load(COMMITTED_CHAMPION)
    rng = np.random.default_rng(seed)
    return [champ] + [mutate(champ, rng, VariationSettings()) for _ in range(n - 1)]


def _time_kernel(task, genomes, min_cpu: float) -> tuple[float, int, float]:
    """Repeat evaluation until `min_cpu` CPU-seconds: (steps per CPU-s, steps per pass, cpu)."""
    evaluate(task, genomes[:2], WEIGHTS, SEEDS)  # compile outside the timing
    steps, cpu, passes = 0, 0.0, 0
    while cpu < min_cpu or passes < 2:
        t0 = time.process_time()
        ev = evaluate(task, genomes, WEIGHTS, SEEDS)
        cpu += time.process_time() - t0
        steps += ev.env_steps
        passes += 1
    return steps / cpu, steps // passes, cpu


def _time_numpy(genomes, max_genomes: int) -> float:
    steps, cpu = 0, 0.0
    rw = np.repeat(WEIGHTS, len(SEEDS))
    rs = np.tile(SEEDS, len(WEIGHTS))
    for g in genomes[:max_genomes]:
        t0 = time.process_time()
        _, st = swingup.run_episodes_numpy(g, rw, rs)
        cpu += time.process_time() - t0
        steps += int(st.sum())
    return steps / cpu


def _env_share(steps_per_pass: int, kernel_rate: float) -> float:
    lanes = 256
    n = max(1, steps_per_pass // lanes)
    s0 = swingup.initial_states(np.arange(lanes))
    swingup.physics_only(s0, 2)
    t0 = time.process_time()
    swingup.physics_only(s0, n)
    t = time.process_time() - t0
    return min(1.0, (t / (lanes * n)) * kernel_rate)


def _workload(name, genomes, task, min_cpu, numpy_genomes, say):
    say(f"bench: {name} ({len(genomes)} genomes x 6 weights x 3 rollouts) ...")
    rate, per_pass, _ = _time_kernel(task, genomes, min_cpu)
    np_rate = _time_numpy(genomes, numpy_genomes)
    return {**_figures(genomes, per_pass, rate, np_rate), "env_share": _env_share(per_pass, rate)}


def _figures(genomes, per_pass: int, rate: float, np_rate: float) -> dict:
    """A workload's figures: its size, both rates and their ratio."""
    g = genomes[0]
    return {
        "genomes": len(genomes),
        "nodes": g.n_nodes,
        "connections": g.n_connections,
        "env_steps_per_generation": per_pass,
        "network_steps_per_cpu_s": rate,
        "numpy_network_steps_per_cpu_s": np_rate,
        "speedup_vs_numpy": rate / np_rate,
    }


def control_workload(env_id: str, min_cpu: float, say) -> dict:
    """A classic-control task: its fused kernel against its numpy twin on the same 64
    champion-sized genomes, in one batch each (the twin's per-step Python cost depends on the
    batch, so both paths get the same one)."""
    fused = make_task(env_id, kernel="fused")
    twin = make_task(env_id, kernel="numpy")
    n_in, n_out = fused.n_inputs, fused.n_outputs
    genomes = champion_sized(hidden=29 - 1 - n_in - n_out, n_inputs=n_in, n_outputs=n_out)
    say(f"bench: {env_id} ({len(genomes)} champion-sized genomes x 6 weights x 3 rollouts) ...")
    rate, per_pass, _ = _time_kernel(fused, genomes, min_cpu)
    np_rate, _, _ = _time_kernel(twin, genomes, min_cpu / 2)
    return _figures(genomes, per_pass, rate, np_rate)


def run_bench(quick: bool = False, scaling: bool = False, progress: bool = True, task: str | None = None) -> dict:
    """Every figure of `wann bench` (see the module docstring). task: only this one (the swing-up
    id or one of `CONTROL_TASKS`); None = all of them."""
    if task is not None and task not in (SWINGUP, *CONTROL_TASKS):
        from wann.errors import ConfigError

        raise ConfigError("bench --task", f"must be {SWINGUP} or one of {', '.join(CONTROL_TASKS)}, got {task!r}")

    def say(msg):
        if progress:
            print(msg, file=sys.stderr, flush=True)

    min_cpu = 0.5 if quick else 3.0
    result: dict = {"unit": "network-timesteps per CPU-second, single process, environment included"}
    if task in (None, SWINGUP):
        swing = make_task(SWINGUP)
        result["fresh"] = _workload("fresh population", fresh_population(), swing, min_cpu, 4 if quick else 16, say)
        result["champion"] = _workload("champion-sized", champion_sized(), swing, min_cpu, 2 if quick else 6, say)
        if COMMITTED_CHAMPION.exists():
            result["committed_champion"] = _workload(
                "committed champion", [Genome.load(COMMITTED_CHAMPION)] * 8, swing, min_cpu, 1, say
            )
    for env_id in CONTROL_TASKS:
        if task in (None, env_id):
            result[env_id] = control_workload(env_id, min_cpu / 2 if task is None else min_cpu, say)
    if scaling:
        result["scaling"] = scaling_benchmark(progress=say, quick=quick)
    return result


def scaling_benchmark(progress=print, quick: bool = False, generations: int | None = None) -> dict[str, float]:
    """Wall time of one swing-up generation (192 genomes x 6 weights x 3 rollouts) serial, on Ray
    with 1 worker and with 2 workers (median over several generations, same genomes)."""
    from wann.distributed.cluster import connect, disconnect
    from wann.distributed.pool import RayExecutor
    from wann.executor import SerialExecutor

    reps = generations or (3 if quick else 7)
    pop = late_search_population()
    spec = {"name": "wann/CartPoleSwingUp-v0"}
    seeds_for = [[1000 * k + r for r in range(3)] for k in range(reps + 1)]

    def timed(ex) -> float:
        ex.evaluate(pop, WEIGHTS, seeds_for[-1])  # warm-up (compilation, batch sizing)
        times = []
        for k in range(reps):
            t0 = time.perf_counter()
            ex.evaluate(pop, WEIGHTS, seeds_for[k])
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    progress("bench: scaling, serial ...")
    serial = timed(SerialExecutor(spec))
    out = {"serial_s": serial}
    started = connect(None, num_cpus=2)  # False when Ray is already up
    try:
        for n in (1, 2):
            progress(f"bench: scaling, Ray with {n} worker(s) ...")
            ex = RayExecutor(spec, workers=n)
            try:
                out[f"ray{n}_s"] = timed(ex)
            finally:
                ex.close()
    finally:
        if started:
            disconnect()
    out["ray1_over_serial"] = out["ray1_s"] / serial
    out["ray2_over_serial"] = out["ray2_s"] / serial
    out["genomes"] = len(pop)
    return out
