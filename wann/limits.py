"""Upper bounds on sizes, checked before any work starts.

They keep a typo (``population = 1920000``) from hanging a machine or ending in a MemoryError
after minutes. Each bound is far above the paper's settings; a cluster user who needs more raises
it in the experiment file's ``[limits]`` table (e.g. ``population = 50000``). Bounds that protect
the kernels themselves (int64 seeds, numba's integer types) are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

#: seeds are 32-bit everywhere (numpy SeedSequence entropy, derived rollout seeds)
SEED_LIMIT = 2**32
#: `wann evaluate --seed`: test and selection seeds (seed + 10^7 + episodes) stay far inside int64
EVAL_SEED_LIMIT = 2**40
#: shared weight values and individual weights: |w| <= this (beyond it every activation saturates
#: or overflows to inf / NaN)
MAX_ABS_WEIGHT = 100.0
#: genome files: interface and graph sizes (a task's interface is far smaller)
MAX_GENOME_IO = 100_000
MAX_GENOME_NODES = 1_000_000
MAX_GENOME_CONNECTIONS = 10_000_000
#: a study or a `wann train` budget (episodes or epochs), and test episodes
MAX_BUDGET = 10**9
MAX_EPISODES = 10**6
MAX_WORKERS = 100_000


@dataclass(frozen=True)
class Limits:
    """Overridable bounds (the ``[limits]`` table of an experiment file)."""

    population: int = 100_000
    generations: int = 1_000_000
    rollouts: int = 1_000
    shared_weights: int = 100
    tournament: int = 100_000
    max_steps: int = 10_000_000
    #: episodes evaluated per generation: population x shared weights x rollouts
    episodes_per_generation: int = 10_000_000
