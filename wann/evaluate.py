"""Score a batch of genomes: (genome x shared weight x rollout) episodes -> rewards.

Common random numbers as in the reference: every genome sees the same rollout seeds, and rollout
r uses the same seed for every shared weight. A genome's rewards depend only on (genome, task,
shared weight, rollout seed): each genome runs in its own lanes of the kernel, so its numbers do
not change with the batch it sits in or the worker that runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wann.genome import Genome
from wann.network import compile_genomes
from wann.tasks import Task


@dataclass(frozen=True)
class Evaluation:
    """rewards: (G, W, S) episode returns per genome, shared weight and rollout.
    steps: (G, W, S) environment steps of each episode."""

    rewards: np.ndarray
    steps: np.ndarray

    @property
    def episodes(self) -> int:
        return int(self.rewards.size)

    @property
    def env_steps(self) -> int:
        return int(self.steps.sum())

    @staticmethod
    def concat(parts: Sequence[Evaluation]) -> Evaluation:
        return Evaluation(np.concatenate([p.rewards for p in parts]), np.concatenate([p.steps for p in parts]))


def evaluate(
    task: Task, genomes: Sequence[Genome], shared_weights: Sequence[float], seeds: Sequence[int]
) -> Evaluation:
    """Evaluate every genome at every shared weight on every rollout seed (lockstep kernel)."""
    G, W, S = len(genomes), len(shared_weights), len(seeds)
    if G == 0:
        return Evaluation(np.zeros((0, W, S)), np.zeros((0, W, S), dtype=np.int64))
    batch = compile_genomes(genomes)
    row_genome = np.repeat(np.arange(G), W * S)
    row_weight = np.tile(np.repeat(np.asarray(shared_weights, dtype=np.float64), S), G)
    row_seed = np.tile(np.asarray(seeds, dtype=np.int64), G * W)
    ret, steps = task.run_episodes(batch, row_genome, row_weight, row_seed)
    return Evaluation(ret.reshape(G, W, S), steps.reshape(G, W, S))


def evaluate_weights(
    task: Task, genome: Genome, weight_rows: np.ndarray, seeds: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Score one topology under P individual weight vectors on S episode seeds.

    weight_rows: (P, len(genome.connections)) one weight per connection (disabled ones ignored).
    Returns (rewards (P, S), steps (P, S)). Each row depends only on (weights, seed)."""
    from wann.network import edge_weights_from_connections

    weight_rows = np.atleast_2d(np.asarray(weight_rows, dtype=np.float64))
    P, S = weight_rows.shape[0], len(seeds)
    batch = compile_genomes([genome])
    ew = edge_weights_from_connections(batch, 0, weight_rows)  # (P, E)
    ew = np.repeat(ew, S, axis=0)
    row_seed = np.tile(np.asarray(seeds, dtype=np.int64), P)
    ret, steps = task.run_episodes(
        batch, np.zeros(P * S, dtype=np.int64), np.zeros(P * S), row_seed, ew if ew.shape[1] else None
    )
    return ret.reshape(P, S), steps.reshape(P, S)
