"""The arms of a pre-registered claim: ``"method/variant"``, the variant as in the results
table's `variant` column (``"-"`` for an unsized method; ``"dense0"``, alone or as the start of a
variant such as ``"dense0+uniform2"``, is the task's first dense width), and an arm's final
scores by seed. Used by `claims` (the paired tests) and `variance` (the fixed structures)."""

from __future__ import annotations

import math

from wann.analysis.data import StudyData, dense0
from wann.baselines import methods

__all__ = ["parse_arm", "resolve_variant", "arm_label", "arm_scores"]


def parse_arm(spec: str) -> tuple[str, str]:
    """``"method/variant"`` -> ``(method, variant)``; a bare method name means variant ``"-"``."""
    spec = str(spec).strip()
    if "/" not in spec:
        return spec, "-"
    m, v = spec.split("/", 1)
    return m.strip(), v.strip()


def resolve_variant(data: StudyData, task: str, variant: str) -> str:
    """The variant with ``dense0`` (at its start) replaced by the task's first dense width."""
    return dense0(data, task) + variant[len("dense0") :] if variant.startswith("dense0") else variant


def arm_label(spec: str) -> str:
    """An arm in words: the registry's label of its method, then its variant unless ``"-"``."""
    m, v = parse_arm(spec)
    label = methods.get(m).label if m in methods.REGISTRY else m
    return label if v == "-" else f"{label} [{v}]"


def arm_scores(data: StudyData, task: str, spec: str) -> dict[int, float]:
    """The final scores of an arm on a task, by seed (the first row of a seed when there are
    several; NaN scores dropped)."""
    m, v = parse_arm(spec)
    f = data.full_final
    g = f[(f["task"] == task) & (f["method"] == m) & (f["variant"] == resolve_variant(data, task, v))]
    out: dict[int, float] = {}
    for s, x in zip(g["seed"].astype(int), g["score"].astype(float)):
        if s not in out and math.isfinite(x):
            out[int(s)] = float(x)
    return out
