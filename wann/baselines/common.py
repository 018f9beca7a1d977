"""What every counterpart returns: a network, its score on fresh episodes, and its budget."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from wann.weighted import WeightedNetwork, flops_per_step, structure_counts

#: fractions of a training budget at which counterparts record a checkpoint score
CHECKPOINTS = (0.10, 0.25, 0.50, 1.00)


@dataclass
class Budget:
    """Training cost: episodes (RL) or examples seen (classification), environment steps and
    CPU-seconds of every process that worked on it."""

    episodes: int = 0
    env_steps: int = 0
    cpu_s: float = 0.0

    def add(self, episodes: int, env_steps: int, cpu_s: float = 0.0) -> None:
        self.episodes += int(episodes)
        self.env_steps += int(env_steps)
        self.cpu_s += float(cpu_s)


@dataclass
class TrainResult:
    method: str
    network: WeightedNetwork
    score: dict[str, float]  # mean, sd, episodes (or accuracy for classification)
    budget: Budget
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        g = self.network.genome
        return {
            "method": self.method,
            "score": self.score,
            "budget": asdict(self.budget),
            **structure_counts(g),
            "flops_per_step": flops_per_step(g),
            "checkpoints": self.checkpoints,
            "info": self.info,
        }


class CpuClock:
    """CPU-seconds of this process plus those an executor reports for its workers."""

    def __init__(self, executor):
        self.executor = executor
        self.t0 = time.process_time()
        self.r0 = self._remote()

    def _remote(self) -> float:
        st = self.executor.stats()
        return 0.0 if st.get("executor") == "serial" else float(st.get("eval_cpu_s", 0.0))

    def lap(self) -> float:
        now, rem = time.process_time(), self._remote()
        out = (now - self.t0) + (rem - self.r0)
        self.t0, self.r0 = now, rem
        return out


def mean_sd(x) -> dict[str, float]:
    x = np.asarray(x, dtype=np.float64).ravel()
    return {"mean": float(x.mean()), "sd": float(x.std(ddof=1)) if x.size > 1 else 0.0, "n": int(x.size)}
