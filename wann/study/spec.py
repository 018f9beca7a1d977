"""Study files: the grid a comparison runs (tasks x methods x seeds x sizes), validated up front.

    [study]
    name = "study-small"
    seeds = [0, 1, 2, 3, 4]                # independent runs: one WANN search and one training each
    methods = ["wann_best_shared", ...]    # default: every method the task kind supports
    sizes = [0.5, 1.0, 2.0]                # multiples of the champion's connection count
    test_episodes = 100                    # fresh episodes behind every RL score
    landscape_episodes = 5                 # episodes per point of the landscape measures (0 = off)
    landscapes = "all"                     # or "base": only the base cells at 1x / unsized / dense0
    inits = ["default", "uniform2"]        # init schemes; the first is the base, the others at 1x
    replicates = 3                         # initialisations per fixed structure (1 = none), at 1x
    prune_times = [0.1, 0.25, 0.5, 1.0]    # timed methods: pruned after these fractions, at 1x
    half_search = true                     # also assess each search's champion at half its budget
    # out = "results/study-small"          # results folder, relative to this file (default: runs/NAME)

    [[claims]]                             # the claims under test, written before the run
    id = "structure-alone"
    text = "The structure alone beats random weights on the same topology"
    test = "greater"                       # greater (a > b), equivalent (|a - b| < margin), variance
    a = "wann_best_shared/-"               # method/variant as in cell ids ('dense0': first dense width)
    b = "wann_random_individual/-"
    # margin = 25.0                        # equivalence margin (default: the task's margin rule)

    [execution]
    executor = "ray"                       # or "serial"
    workers = 0                            # cells at once; 0 = one per CPU
    address = ""                           # attach to a cluster (default: start a local Ray)

    [[tasks]]
    label = "swingup"
    search = "swingup-study.toml"          # experiment file of the per-seed WANN search (seed replaced)
    # champion = "results/swingup/champion.json"   # ... or one fixed champion for every seed
    budget = 8000                          # training episodes of every counterpart (RL; CMA-ES and NEAT)
    epochs = 60                            # classification: epochs of the torch-trained counterparts
    dense = [[10], [32, 32]]               # dense widths; the first is the parent the pruned nets come from

Paths are relative to the study file. Without `out` (and without `--out`) the results go to
``runs/NAME`` in the current directory (`DEFAULT_OUT`), never next to the study file: a study
file in a repository does not make its runs write into the repository's committed results. Every
check runs before any work starts and raises one `ConfigError` naming the field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wann.baselines.methods import check_name, selectable_for
from wann.errors import ConfigError, GenomeError
from wann.study.axes import int_in as _int
from wann.study.axes import unknown_keys as _unknown
from wann.tasks.base import TaskKind


def methods_for(kind: str) -> tuple[str, ...]:
    """The methods a study runs on a task of `kind` (the registry's selectable ones)."""
    return selectable_for(kind)


@dataclass
class StudyTask:
    label: str
    spec: dict[str, Any]  # the task spec (name + options)
    kind: str
    budget: int
    epochs: int
    dense: list[list[int]]
    search: dict[str, Any] | None = None  # the search experiment as a dict (seed replaced per cell)
    search_file: str | None = None
    champion: dict[str, Any] | None = None  # a fixed champion genome for every seed
    champion_file: str | None = None
    #: methods left out of this task, with the reason (NEAT where it is not a real baseline)
    left_out: dict[str, str] = field(default_factory=dict)


@dataclass
class Study:
    name: str
    seeds: list[int]
    methods: list[str] | None
    sizes: list[float]
    test_episodes: int
    landscape_episodes: int
    out: Path
    tasks: list[StudyTask]
    executor: str = "ray"
    workers: int = 0
    address: str = ""
    source: str = ""
    #: init schemes (`wann.baselines.inits`); the first is the base every cell uses, the others
    #: run at 1x for every method that takes one (`Method.inits`)
    inits: list[str] = field(default_factory=lambda: ["default"])
    #: initialisations per fixed structure (`Method.replicated`), at 1x and the base scheme
    replicates: int = 1
    #: prune times of the timed methods (`Method.timed`), fractions of the parent's training
    prune_times: list[float] = field(default_factory=list)
    #: also assess each search's champion at half its generations (the search at two budgets)
    half_search: bool = False
    #: "all" cells get the landscape measures, or only the "base" cells at 1x / unsized / dense0
    landscapes: str = "all"
    #: the pre-registered claims (`[[claims]]`), verdicts in the report
    claims: list[dict[str, Any]] = field(default_factory=list)
    #: a slice (`slice`) keeps the identity of the whole study
    sliced_from: str = ""

    def methods_of(self, task: StudyTask) -> list[str]:
        """The methods the study runs on `task`: the listed (or all) methods of its kind, less
        those left out of it (`StudyTask.left_out`)."""
        known = methods_for(task.kind)
        return [m for m in (self.methods or known) if m in known and m not in task.left_out]

    def slice(self, tasks: list[str] | None = None, seeds: list[int] | None = None) -> Study:
        """The same study on some of its tasks (labels) and seeds: its cells are the study's own
        (same identity, same results folder), so a slice run is resumed by the whole study."""
        from dataclasses import replace

        for name, given, known in (("tasks", tasks, [t.label for t in self.tasks]), ("seeds", seeds, self.seeds)):
            bad = [v for v in given or [] if v not in known]
            if bad:
                raise ConfigError(f"slice.{name}", f"{bad} not in the study's {name}: {', '.join(map(str, known))}")
        return replace(
            self,
            tasks=[t for t in self.tasks if tasks is None or t.label in tasks],
            seeds=[s for s in self.seeds if seeds is None or s in seeds],
            sliced_from=self.identity(),
        )

    def identity(self) -> str:
        """A hash of everything that changes what a cell computes (not the grid's extent: seeds,
        methods and sizes may be added to a study and its finished cells are kept)."""
        if self.sliced_from:
            return self.sliced_from
        doc = {
            "name": self.name,
            "test_episodes": self.test_episodes,
            "landscape_episodes": self.landscape_episodes,
            **({"base_init": self.inits[0]} if self.inits[0] != "default" else {}),
            "tasks": [
                {k: v for k, v in asdict(t).items() if k not in ("search_file", "champion_file", "left_out")}
                for t in self.tasks
            ],
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


_STUDY_KEYS = {
    "name",
    "seeds",
    "methods",
    "sizes",
    "test_episodes",
    "landscape_episodes",
    "landscapes",
    "inits",
    "replicates",
    "prune_times",
    "half_search",
    "out",
}

_TASK_KEYS = {"label", "task", "search", "champion", "budget", "epochs", "dense"}
_EXEC_KEYS = {"executor", "workers", "address"}


#: where a study's results go without `out` or `--out`: DEFAULT_OUT/NAME, relative to the current
#: directory (as `wann search` writes runs/NAME-sSEED-TIME); .gitignore keeps it out of git
DEFAULT_OUT = "runs"


def _path(v, path, source) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(path, f"must be a file path (a string, relative to the study file), got {v!r}", source)
    return v


def _left_out(task, budget: int) -> dict[str, str]:
    """Methods that are not a real baseline on `task` at this budget, with the reason."""
    from wann.baselines.neat_baseline import neat_supported

    ok, reason = neat_supported(task, budget)
    return {} if ok else {"neat": reason}


def load_study(path: str | Path, out: str | Path | None = None) -> Study:
    """Read and validate a study file (see the module docstring); `out` overrides its results
    folder. Every check runs here, before any work: one ConfigError names the field."""
    from wann.search.experiment import parse_toml

    path = Path(path)
    data = parse_toml(path, "STUDY", "study file (.toml, see experiments/study-small.toml)")
    if not data:
        raise ConfigError("STUDY", f"{path} is empty; a study needs [study] and [[tasks]] tables")
    return study_from_dict(data, path.parent, str(path), out)


def study_from_dict(data: dict[str, Any], base: Path, source: str | None = None, out=None) -> Study:
    from wann.files import read_json
    from wann.genome import Genome
    from wann.limits import MAX_BUDGET, MAX_EPISODES, SEED_LIMIT
    from wann.search.experiment import NAME_PATTERN, experiment_from_dict, parse_toml
    from wann.tasks import make_task

    _unknown(data, {"study", "execution", "tasks", "claims"}, "", source)
    st = data.get("study")
    if not isinstance(st, dict):
        raise ConfigError("study", 'missing [study] table (name = "...", seeds = [...])', source)
    _unknown(st, _STUDY_KEYS, "study.", source)
    name = st.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name.strip()):
        raise ConfigError(
            "study.name",
            "must be up to 100 letters, digits, '.', '_' or '-' (not starting with '.'), e.g. name = \"study-small\"",
            source,
        )
    seeds = st.get("seeds")
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError("study.seeds", "the grid is empty: give at least one seed, e.g. seeds = [0, 1, 2]", source)
    seeds = [_int(s, "study.seeds", source, 0, SEED_LIMIT - 1) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ConfigError("study.seeds", f"repeated seed in {seeds}", source)
    methods = st.get("methods")
    if methods is not None:
        if not isinstance(methods, list) or not methods:
            raise ConfigError(
                "study.methods", "the grid is empty: list at least one method, or drop the key for all", source
            )
        for m in methods:
            check_name(m, "study.methods", source=source)
        if len(set(methods)) != len(methods):
            raise ConfigError("study.methods", "a method is listed twice", source)
    sizes = st.get("sizes", [1.0])
    if not isinstance(sizes, list) or not sizes:
        raise ConfigError("study.sizes", "the grid is empty: give at least one size, e.g. sizes = [1.0]", source)
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 < s <= 20:
            msg = f"sizes are multiples of the champion's connections in (0, 20], got {s!r}"
            raise ConfigError("study.sizes", msg, source)
    if len(set(sizes)) != len(sizes):
        raise ConfigError("study.sizes", f"repeated size in {sizes}", source)
    test_episodes = _int(st.get("test_episodes", 100), "study.test_episodes", source, 1, MAX_EPISODES)
    landscape_episodes = _int(st.get("landscape_episodes", 5), "study.landscape_episodes", source, 0, MAX_EPISODES)
    if out is not None:
        out_dir = Path(out)
    elif "out" in st:
        out_dir = base / _path(st["out"], "study.out", source)
    else:
        out_dir = Path(DEFAULT_OUT) / name
    from wann.study.axes import parse_axes, parse_claims

    axes = parse_axes(st, source)
    claims = parse_claims(data.get("claims", []), source)

    ex = data.get("execution", {})
    if not isinstance(ex, dict):
        raise ConfigError("execution", "must be a table", source)
    _unknown(ex, _EXEC_KEYS, "execution.", source)
    executor = ex.get("executor", "ray")
    if executor not in ("ray", "serial"):
        raise ConfigError("execution.executor", f"use 'ray' or 'serial', got {executor!r}", source)
    workers = _int(ex.get("workers", 0), "execution.workers", source)
    address = ex.get("address", "")
    if not isinstance(address, str):
        raise ConfigError("execution.address", "must be a string", source)

    raw = data.get("tasks")
    if not isinstance(raw, list) or not raw:
        raise ConfigError("tasks", "the grid is empty: add at least one [[tasks]] table", source)
    tasks, labels = [], set()
    for i, t in enumerate(raw):
        w = f"tasks[{i}]."
        if not isinstance(t, dict):
            raise ConfigError(f"tasks[{i}]", "must be a table", source)
        _unknown(t, _TASK_KEYS, w, source)
        search = champion = None
        search_file = champion_file = None
        if ("search" in t) == ("champion" in t):
            raise ConfigError(
                f"{w}search", "give exactly one of search = 'EXPERIMENT.toml' (a search per seed) or champion = 'FILE'"
            )
        if "search" in t:
            search_file = str(base / _path(t["search"], f"{w}search", source))
            sp = Path(search_file)
            sdata = parse_toml(sp, f"{w}search", "experiment file (relative to the study)")
            exp = experiment_from_dict(sdata, str(sp))
            search = {**sdata, "seed": 0}
            spec = dict(exp.task)
            if "task" in t and t["task"] != spec:
                raise ConfigError(f"{w}task", f"differs from the search experiment's [task] {spec}; drop one of them")
        else:
            champion_file = str(base / _path(t["champion"], f"{w}champion", source))
            cp = Path(champion_file)
            try:
                g = Genome.from_dict(read_json(cp, f"{w}champion", "champion genome file"), str(cp))
            except GenomeError as e:
                raise ConfigError(f"{w}champion", f"{cp} is not a genome file: {e}") from None
            champion = g.to_dict()
            spec = t.get("task") or g.meta.get("task")
            if isinstance(spec, str):
                spec = {"name": spec}
            if not isinstance(spec, dict) or "name" not in spec:
                raise ConfigError(f"{w}task", "the champion names no task; add task = {name = '...'}")
        from wann.limits import Limits

        max_steps = spec.get("max_steps")
        if isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps > Limits().max_steps:
            raise ConfigError(f"{w}task.max_steps", f"{max_steps} is above the bound of {Limits().max_steps}", source)
        try:
            task = make_task(spec["name"], **{k: v for k, v in spec.items() if k != "name"})
        except ConfigError as e:
            raise ConfigError(f"{w}task", e.message, source) from None
        if champion is not None:
            g = Genome.from_dict(champion)
            if (g.n_inputs, g.n_outputs) != (task.n_inputs, task.n_outputs):
                raise ConfigError(
                    f"{w}champion",
                    f"has {g.n_inputs}/{g.n_outputs} inputs/outputs; {task.name} needs "
                    f"{task.n_inputs}/{task.n_outputs}",
                )
        label = t.get("label", task.name.split("/")[-1])
        if not isinstance(label, str) or not NAME_PATTERN.fullmatch(label):
            msg = "must be up to 100 letters, digits, '.', '_' or '-' (it names files), e.g. label = \"swingup\""
            raise ConfigError(f"{w}label", msg, source)
        if label in labels:
            raise ConfigError(f"{w}label", f"{label!r} is used by two tasks; give each a label", source)
        labels.add(label)
        budget = _int(t.get("budget", 0), f"{w}budget", source, 1, MAX_BUDGET)
        epochs = _int(t.get("epochs", 60), f"{w}epochs", source, 1, 100_000)
        dense = t.get("dense")
        if dense is None:
            from wann.baselines.recipes import classify_hidden
            from wann.baselines.rl import dense_layout

            dense = (
                [classify_hidden(task)]
                if task.kind == TaskKind.CLASSIFY
                else list(dense_layout(task.name, task.n_inputs, task.n_outputs).values())
            )
        if (
            not isinstance(dense, list)
            or not dense
            or not all(
                isinstance(h, list)
                and 0 < len(h) <= 16
                and all(isinstance(x, int) and not isinstance(x, bool) and 0 < x <= 100_000 for x in h)
                for h in dense
            )
        ):
            msg = "a list of hidden-layer widths (1-16 layers of 1-100000 units), e.g. dense = [[10], [32, 32]]"
            raise ConfigError(f"{w}dense", msg, source)
        if task.kind == TaskKind.CLASSIFY and any(len(h) != 1 for h in dense):
            raise ConfigError(f"{w}dense", "classification counterparts have one hidden layer: e.g. [[128]]", source)
        tasks.append(
            StudyTask(
                label, task.spec(), str(task.kind), budget, epochs, dense, search, search_file, champion, champion_file
            )
        )
        tasks[-1].left_out = _left_out(task, budget)
    if methods is not None and not any(m in methods_for(t.kind) for t in tasks for m in methods):
        raise ConfigError("study.methods", "no listed method applies to any task: the grid is empty", source)
    return Study(
        name.strip(),
        seeds,
        methods,
        [float(s) for s in sizes],
        test_episodes,
        landscape_episodes,
        out_dir,
        tasks,
        executor,
        workers,
        address,
        source or "",
        **axes,
        claims=claims,
    )
