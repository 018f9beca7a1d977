"""Tasks the search can run on, by name: the package's public face.

A task turns (genomes, shared weights, rollout seeds) into episode returns through one small
interface (`Task`, in `wann.tasks.base`); `make_task(name, **options)` and `task_from_spec(spec)`
build one from the name an experiment file gives (`wann.tasks.registry`, which documents the
lookup order and registers ``wann/CartPoleSwingUp-v0`` with Gymnasium on import). The task
families are the submodules:

- `wann.tasks.swingup`: the reference CartPoleSwingUp (`SwingUpTask`, fused numba kernel);
- `wann.tasks.classify`: classification data sets shipped with scikit-learn;
- `wann.tasks.gym`: any Gymnasium environment with a flat Box observation (`GymTask`), stepped
  in lockstep through a pool of real environments, or through the exact numpy twins of
  `wann.tasks.twins` for four classic-control environments.
"""

from __future__ import annotations

from wann.tasks.base import Task
from wann.tasks.registry import ALIASES, REGISTRY, SWINGUP_ID, make_task, task_from_spec
from wann.tasks.swingup import SwingUpTask

__all__ = ["ALIASES", "REGISTRY", "SWINGUP_ID", "SwingUpTask", "Task", "make_task", "task_from_spec"]
