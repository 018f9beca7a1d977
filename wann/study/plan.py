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
    #: a non-base init scheme ('' = the study's base scheme)
    init: str = ""
    #: replicate: re-drawn initial weights of the seed's fixed structure (0 = the seed's own)
    rep: int = 0
    #: timed methods: the fraction of the parent's training after which it is pruned
    at: float = math.nan
    #: an assessment of the search's champion at half its generations
    half: bool = False

    @property
    def file(self) -> str:
        return self.id.replace("/", "__") + ".json"

    @property
    def variant(self) -> str:
        return "half" if self.half else variant_label(self.size, self.init, self.rep, self.at)


def size_label(f: float) -> str:
    return f"{f:g}x"


def width_label(hidden: list[int]) -> str:
    return "-".join(map(str, hidden))


def variant_label(size: str, init: str = "", rep: int = 0, at: float = math.nan) -> str:
    """A cell's variant: its size, then '+SCHEME' for a non-base init, '+rN' for replicate N,
    '@T' for a net pruned after T of its parent's training (e.g. '1x@0.25', '1x+r2')."""
    v = size + (f"+{init}" if init else "") + (f"+r{rep}" if rep else "")
    return v + (f"@{at:g}" if not math.isnan(at) else "")


def cell_id(task: str, kind: str, variant: str, seed: int) -> str:
    return f"{task}/{kind}/{variant}/s{seed}"


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
    """Every cell of the grid, parents before children: the base grid (every method at the base
    init, every size, every dense width), then at 1x (and the first dense width) the other init
    schemes of the methods that take one, the replicates of the fixed structures and the prune
    times of the timed methods, and the half-budget assessment when `Study.half_search`."""
    cells: dict[str, Cell] = {}
    for s in study.seeds:  # seed by seed: an interrupted study holds whole seeds of every task
        for t in study.tasks:
            _TaskSeed(study, t, s, cells).plan()
    return list(cells.values())


class _TaskSeed:
    """The cells of one (task, seed), added to `cells` (by id, first come first kept)."""

    def __init__(self, study: Study, task, seed: int, cells: dict[str, Cell]):
        self.study, self.t, self.s, self.cells = study, task, seed, cells
        self.methods = study.methods_of(task)
        # every method some listed method descends from (a ticket needs its pruned net)
        self.needed = list(dict.fromkeys(a for m in self.methods for a in _ancestors(m) + [m]))
        self.w0 = width_label(task.dense[0])
        self.champ: list[str] = []

    def cid(self, kind: str, variant: str = "-") -> str:
        return cell_id(self.t.label, kind, variant, self.s)

    def add(self, c: Cell) -> str:
        self.cells.setdefault(c.id, c)
        return c.id

    def on_champ(self, kind: str, variant: str = "-", **fields) -> None:
        c = Cell(self.cid(kind, variant), self.t.label, kind, self.s, deps=list(self.champ), **fields)
        c.parent = self.champ[0] if self.champ else ""
        self.add(c)

    def sized(self, m: str, f: float, init: str = "", rep: int = 0, at: float = math.nan) -> None:
        """The cell of sized method m at size f; its RL ancestors at the same init (a replicate's
        and a timed net's ancestors are the base ones)."""
        sz = size_label(f)
        ids = {
            a: self.cid("dense", variant_label(self.w0, init)) if a == "dense" else self.cid(a, variant_label(sz, init))
            for a in _ancestors(m)
        }
        # RL parents are trained once in their own cells; classification parents are retrained
        # inside the child cell (cheap and deterministic)
        wait = list(ids.values()) if self.t.kind == RL else []
        parent = ids[REGISTRY[m].parent] if REGISTRY[m].parent else ""
        v = variant_label(sz, init, rep, at)
        self.add(Cell(self.cid(m, v), self.t.label, m, self.s, sz, f, None, self.champ + wait, parent, init, rep, at))

    def dense(self, h: list[int], init: str = "") -> None:
        w = width_label(h)
        self.add(Cell(self.cid("dense", variant_label(w, init)), self.t.label, "dense", self.s, w, hidden=h, init=init))

    def plan(self) -> None:
        t, study, needed = self.t, self.study, self.needed
        if t.search:
            self.champ = [self.add(Cell(self.cid(SEARCH), t.label, SEARCH, self.s))]
        if any(REGISTRY[m].role == ASSESSED for m in self.methods):
            self.on_champ(ASSESSMENT)
            if study.half_search and t.search:
                self.on_champ(ASSESSMENT, "half", half=True)
        for m in needed:
            if REGISTRY[m].needs_champion and REGISTRY[m].role != ASSESSED:
                self.on_champ(m)
        if "dense" in needed:
            for i, h in enumerate(t.dense):
                if "dense" in self.methods or i == 0:
                    self.dense(h)
        for f in study.sizes:
            for m in needed:
                if REGISTRY[m].sized and not REGISTRY[m].timed:
                    self.sized(m, f)
        for m in needed:
            spec = REGISTRY[m]
            if not spec.needs_champion and not spec.sized and m != "dense":
                self.add(Cell(self.cid(m), t.label, m, self.s))
        # the other axes, at 1x (and the first dense width)
        for init in study.inits[1:]:
            for m in (m for m in needed if REGISTRY[m].inits):
                if m == "dense":
                    self.dense(t.dense[0], init)
                elif REGISTRY[m].sized:
                    for a in _ancestors(m):  # the lineage at this init
                        self.dense(t.dense[0], init) if a == "dense" else self.sized(a, 1.0, init)
                    self.sized(m, 1.0, init)
                else:
                    self.on_champ(m, variant_label("-", init), init=init)
        for rep in range(1, study.replicates):
            for m in (m for m in needed if REGISTRY[m].replicated):
                if REGISTRY[m].sized:
                    self.sized(m, 1.0, rep=rep)
                else:
                    self.on_champ(m, variant_label("-", rep=rep), rep=rep)
        for at in study.prune_times:
            for m in (m for m in needed if REGISTRY[m].timed):
                self.sized(m, 1.0, at=at)
