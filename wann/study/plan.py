"""The plan of a study: every cell of its grid, parents before children.

A *cell* is one unit of work: a WANN search for one (task, seed), the assessment of its champion
(every assessed method of the registry at once), or the training of one method for one (task,
seed[, size or dense width]). Which cells exist, and what each waits for, follows from the
registry (`wann.baselines.methods`): sized methods get a cell per size, a method's `parent` is the
cell its network starts from (RL: trained once in its own cell; classification: retrained inside
the child cell, which is cheap and deterministic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from wann.baselines.methods import ASSESSED, DERIVED, REGISTRY, RL
from wann.study.spec import Study

SEARCH, ASSESSMENT = "search", "wann"  # the two cell kinds that are not a method


@dataclass
class Cell:
    """One unit of work. kind: 'search', 'wann' (every assessed method of the registry), or a
    trained method's name. size: '1x', '0.5x' (sized methods), a dense width such as '10' or
    '32-32', or '-'. deps: the cells whose results this one needs; parent: the cell its network
    descends from ('' if none)."""

    id: str
    task: str
    kind: str
    seed: int
    size: str = "-"
    size_factor: float = math.nan
    hidden: list[int] | None = None
    deps: list[str] = field(default_factory=list)
    parent: str = ""

    @property
    def file(self) -> str:
        return self.id.replace("/", "__") + ".json"


def size_label(f: float) -> str:
    return f"{f:g}x"


def width_label(hidden: list[int]) -> str:
    return "-".join(map(str, hidden))


def cell_id(task: str, kind: str, size: str, seed: int) -> str:
    return f"{task}/{kind}/{size}/s{seed}"


def _ancestors(name: str) -> list[str]:
    """The methods a method's network descends from, oldest first (lottery_ticket: dense,
    pruned_magnitude)."""
    out: list[str] = []
    parent = REGISTRY[name].parent
    while parent is not None and REGISTRY[parent].role != DERIVED:
        out.insert(0, parent)
        parent = REGISTRY[parent].parent
    return out


def plan(study: Study) -> list[Cell]:
    """Every cell of the grid, parents before children."""
    cells: dict[str, Cell] = {}

    def add(c: Cell) -> str:
        cells.setdefault(c.id, c)
        return c.id

    for t in study.tasks:
        methods = study.methods_of(t)
        # every method some listed method descends from (a ticket needs its pruned net)
        needed = list(dict.fromkeys(a for m in methods for a in _ancestors(m) + [m]))
        for s in study.seeds:

            def cid(kind: str, size: str = "-", label: str = t.label, seed: int = s) -> str:
                return cell_id(label, kind, size, seed)

            champ = [add(Cell(cid(SEARCH), t.label, SEARCH, s))] if t.search else []
            on_champ = {"deps": champ, "parent": champ[0] if champ else ""}
            if any(REGISTRY[m].role == ASSESSED for m in methods):
                add(Cell(cid(ASSESSMENT), t.label, ASSESSMENT, s, **on_champ))
            for m in needed:
                if REGISTRY[m].needs_champion and REGISTRY[m].role != ASSESSED:
                    add(Cell(cid(m), t.label, m, s, **on_champ))
            if "dense" in needed:
                for i, h in enumerate(t.dense):
                    if "dense" in methods or i == 0:
                        w = width_label(h)
                        add(Cell(cid("dense", w), t.label, "dense", s, size=w, hidden=h))
            dense0 = cid("dense", width_label(t.dense[0]))
            for f in study.sizes:
                sz = size_label(f)
                for m in needed:
                    if not REGISTRY[m].sized:
                        continue
                    ids = {a: dense0 if a == "dense" else cid(a, sz) for a in _ancestors(m)}
                    # RL parents are trained once in their own cells; classification parents are
                    # retrained inside the child cell (cheap and deterministic)
                    wait = list(ids.values()) if t.kind == RL else []
                    parent = ids[REGISTRY[m].parent] if REGISTRY[m].parent else ""
                    add(Cell(cid(m, sz), t.label, m, s, sz, f, deps=champ + wait, parent=parent))
            for m in needed:
                spec = REGISTRY[m]
                if not spec.needs_champion and not spec.sized and m != "dense":
                    add(Cell(cid(m), t.label, m, s))
    return list(cells.values())
