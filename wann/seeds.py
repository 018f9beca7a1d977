"""Seeds and shared constants: every random choice in wann derives from a few named numbers.

A search derives each generation's random numbers from (run seed, generation, purpose) with
`derived_rng`, so a resumed run draws exactly what an uninterrupted one would (island k of an
island run searches with its own seed drawn from (run seed, k, ISLAND)). Evaluation seeds
live in separate ranges so that no score is measured on an episode a search or a training run
has seen:

- search rollouts: `rollout_seeds`, in [0, 2^31);
- fresh test episodes: from `TEST_SEED` (2^20) up (`wann evaluate`, every study score);
- selection episodes (choosing the best shared weight): `TEST_SEED + SELECTION_OFFSET` up;
- training checkpoints' held-out episodes: `TEST_SEED + CHECKPOINT_OFFSET` up;
- landscape measures: from `LANDSCAPE_SEED` up.
"""

from __future__ import annotations

import numpy as np

#: the paper's six shared weight values (Gaier & Ha 2019)
DEFAULT_SHARED_WEIGHTS: tuple[float, ...] = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)

#: purposes of `derived_rng` within a search generation
INIT, SELECT, ROLLOUT = 0, 1, 2
#: purpose of an island's own search seed: `derived_rng(run seed, island index, ISLAND)`
ISLAND = 3

TEST_SEED = 2**20
SELECTION_OFFSET = 10_000_000
CHECKPOINT_OFFSET = 500_000
LANDSCAPE_SEED = 7_000_000


def derived_rng(seed: int, generation: int, purpose: int) -> np.random.Generator:
    """The generator of one (run seed, generation, purpose): independent streams, reproducible."""
    return np.random.default_rng(np.random.SeedSequence([seed, generation, purpose]))


def rollout_seeds(seed: int, generation: int, rollouts: int) -> list[int]:
    """Common random numbers: one base seed per generation, rollout r uses base + r."""
    base = int(derived_rng(seed, generation, ROLLOUT).integers(0, 2**31 - 2**16))
    return [base + r for r in range(rollouts)]
