"""The one registry of methods: every row a study, `wann train` or the report can name.

Each `Method` is declared once, with its label and colour (the report), the task kinds it runs on,
whether it needs a WANN champion, whether it is *sized* (one network per target connection
count, ``size x`` the champion's), the method its network descends from, how a study computes it
(`role`), and its recipe (`wann.baselines.recipes`).

A study's other axes are declared here too: `inits` (the method draws initial weights and takes a
scheme of `wann.baselines.inits`), `replicated` (a fixed structure: a study re-draws only its
initial weights, several times per seed) and `timed` (pruned after a fraction of its parent's
training: one cell per prune time).

Roles:

- ``assessed``: measured on the champion without training (`wann.measures.assess`); a study
  computes all of them in one cell per (task, seed);
- ``trained``: a training recipe; a study gives each one a cell per (task, seed[, size or width]);
- ``derived``: a report row computed from another method's cell (no cell, not selectable).

`wann train` and `wann compare` accept exactly the selectable names (assessed + trained).

Adding a method: one `Method(...)` entry below plus its recipe function in `recipes.py`
(``recipe(ctx: Context) -> list[TrainResult]``, the method's own result first); the study plans,
runs, tabulates and reports it from this entry.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from wann.errors import ConfigError
from wann.tasks.base import TaskKind

RL, CLASSIFY = TaskKind.RL, TaskKind.CLASSIFY
ASSESSED, TRAINED, DERIVED = "assessed", "trained", "derived"


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    color: str
    kinds: tuple[str, ...] = (RL, CLASSIFY)
    role: str = TRAINED
    needs_champion: bool = False
    sized: bool = False
    parent: str | None = None  # the method whose trained network this one starts from
    probed: bool = False  # its sparse mask is also scored with one shared weight (the structure probe)
    #: takes an initialisation scheme (`wann.baselines.inits.SCHEMES`; a study's ``inits`` axis)
    inits: bool = False
    #: a fixed structure (topology or mask) whose initial weights a study re-draws (``replicates``)
    replicated: bool = False
    #: pruned at a time in training (a study's ``prune_times`` axis, at size 1x)
    timed: bool = False
    #: the report's short name in comparisons and legends
    short: str = ""

    @property
    def selectable(self) -> bool:
        return self.role != DERIVED

    def supports(self, kind: str) -> bool:
        return kind in self.kinds


METHODS: tuple[Method, ...] = (
    Method(
        "wann_six_values",
        "WANN, mean over the six search weights",
        "#80b1d3",
        role=DERIVED,
        needs_champion=True,
        parent="wann_best_shared",
    ),
    Method("wann_random_shared", "WANN, random shared weight", "#8dd3c7", role=ASSESSED, needs_champion=True),
    Method("wann_random_individual", "WANN, random individual weights", "#bbbbbb", role=ASSESSED, needs_champion=True),
    Method("wann_best_shared", "WANN, best shared weight", "#1b9e77", role=ASSESSED, needs_champion=True),
    Method("wann_ensemble", "WANN, weight ensemble", "#386cb0", kinds=(CLASSIFY,), role=ASSESSED, needs_champion=True),
    Method("wann_tuned", "WANN, tuned weights", "#66a61e", needs_champion=True),
    Method(
        "wann_retrained",
        "WANN topology, random init, trained",
        "#a6761d",
        needs_champion=True,
        inits=True,
        replicated=True,
    ),
    Method("dense", "dense, trained", "#d95f02", inits=True),
    Method("small_dense", "small dense, trained", "#e6ab02", sized=True, inits=True),
    Method(
        "pruned_magnitude",
        "dense -> pruned (magnitude |w|; Han et al. 2015)",
        "#7570b3",
        sized=True,
        parent="dense",
        probed=True,
        inits=True,
    ),
    Method(
        "pruned_taylor",
        "dense -> pruned (per-weight Taylor |w dL/dw|; RL |w dpi/dw|)",
        "#e7298a",
        sized=True,
        parent="dense",
        probed=True,
    ),
    Method(
        "pruned_taylor_unit",
        "dense -> pruned (Taylor, units; Molchanov 2016)",
        "#c51b7d",
        sized=True,
        parent="dense",
        probed=True,
    ),
    Method(
        "lottery_ticket",
        "lottery ticket (IMP, rewound to init; Frankle & Carbin 2019)",
        "#1f78b4",
        sized=True,
        parent="dense",
        probed=True,
        inits=True,
    ),
    Method(
        "ticket_late_rewind",
        "lottery ticket (IMP, late rewinding; Frankle et al. 2019)",
        "#a6cee3",
        sized=True,
        parent="dense",
        probed=True,
    ),
    Method(
        "ticket_random_init",
        "ticket masks, fresh random init (control)",
        "#b15928",
        sized=True,
        parent="lottery_ticket",
        probed=True,
        inits=True,
        replicated=True,
    ),
    Method(
        "random_sparse",
        "random sparse (pruned at init, random mask), trained",
        "#666666",
        sized=True,
        probed=True,
        inits=True,
        replicated=True,
    ),
    Method(
        "snip",
        "pruned at init (SNIP |w dL/dw|; Lee et al. 2019), trained",
        "#999999",
        sized=True,
        probed=True,
        inits=True,
    ),
    Method(
        "pruned_at",
        "dense -> one-shot |w| pruned after t of training, fine-tuned",
        "#54278f",
        sized=True,
        parent="dense",
        probed=True,
        timed=True,
    ),
    Method(
        "pruned_at_rewind",
        "dense -> one-shot |w| pruned after t of training, rewound to init",
        "#807dba",
        sized=True,
        parent="dense",
        probed=True,
        timed=True,
    ),
    Method(
        "pruned_shared_signed",
        "pruned mask, one shared weight (signs kept, biases forced to +-w)",
        "#9e9ac8",
        role=DERIVED,
        parent="pruned_magnitude",
    ),
    Method(
        "pruned_shared_positive",
        "pruned mask, one shared weight (all positive, biases forced to +w)",
        "#cbc9e2",
        role=DERIVED,
        parent="pruned_magnitude",
    ),
    Method(
        "pruned_shared_signed_bias_trained",
        "pruned mask, one shared weight (signs kept, biases trained)",
        "#6a51a3",
        role=DERIVED,
        parent="pruned_magnitude",
    ),
    Method(
        "pruned_shared_positive_bias_trained",
        "pruned mask, one shared weight (all positive, biases trained)",
        "#dadaeb",
        role=DERIVED,
        parent="pruned_magnitude",
    ),
    Method("neat", "NEAT", "#17becf"),
)
REGISTRY: dict[str, Method] = {m.name: m for m in METHODS}
#: every name, in the report's order
ORDER: tuple[str, ...] = tuple(m.name for m in METHODS)
#: the names `wann train` and `wann compare` accept
SELECTABLE: tuple[str, ...] = tuple(m.name for m in METHODS if m.selectable)


def get(name: str) -> Method:
    return REGISTRY[name]


def selectable_for(kind: str) -> tuple[str, ...]:
    """The selectable methods of a task kind, in registry order."""
    return tuple(m.name for m in METHODS if m.selectable and m.supports(kind))


def labels() -> dict[str, str]:
    return {m.name: m.label for m in METHODS}


def colors() -> dict[str, str]:
    return {m.name: m.color for m in METHODS}


def check_name(name: str, field: str = "method", kind: str | None = None, source: str | None = None) -> Method:
    """The selectable `Method` called `name` (for a task of `kind`, if given), or one ConfigError
    naming the field, with a suggestion and the list of names."""
    known = selectable_for(kind) if kind else SELECTABLE
    if name in known:
        return REGISTRY[name]
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if name == "dense_large":
        hint = " Give the dense widths instead (a study's dense = [[...], [...]], or wann train dense --hidden 32,32)."
    elif name in REGISTRY and not REGISTRY[name].selectable:
        hint = f" It is a report row derived from {REGISTRY[name].parent!r}; list that instead."
    elif name in REGISTRY and kind:
        hint = f" It does not run on {kind} tasks."
    for_kind = f" for a {kind} task" if kind else ""
    raise ConfigError(field, f"unknown method {name!r}{for_kind}.{hint} Known: {', '.join(known)}", source)
