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
