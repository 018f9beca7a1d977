"""What the settings reference writes down by hand: each key's meaning, and the type, default and
bound of a key whose own definition cannot say them.

`wann.study.settings_doc` reads everything else from the code and renders the README's settings
reference; edit the words here, then run ``python -m wann.study.settings_doc --write``.

- `EXPERIMENT`: experiment keys by path (top-level keys and the dataclass tables), meanings, and
  the bounds a plain-lambda check cannot show;
- `TASK`: the ``[task]`` table (a task's options are read by its factory's code, not declared),
  with types, defaults and bounds;
- `STUDY`: study keys by path, with types and bounds, and the defaults of required or derived keys;
- `STUDY_TABLES`: a study file's tables, as printed, and where the code keeps each one's key set;
- `NOT_INTROSPECTED`: a summary, for readers, of what is written down rather than read.

Text in braces (``{seed_limit}``, ``{max_workers}``, ...) is filled from the code's constants when
the reference is rendered (`settings_doc._constants`); a literal brace is doubled.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """What the code cannot say about one key: its meaning, and (when given) the type, default
    and bound to print instead of the introspected ones; `note` is added to a derived bound."""

    meaning: str
    type: str | None = None
    default: str | None = None
    bound: str | None = None
    note: str | None = None


# ---- what is written down: experiment files --------------------------------------------------

NAME_BOUND = "1-100 of `A-Z a-z 0-9 . _ -`, not starting with `.`"

#: experiment keys by path (top-level keys and dataclass tables)
EXPERIMENT: dict[str, Key] = {
    "name": Key("names the default run folder `runs/NAME-sSEED-TIME`", bound=NAME_BOUND),
    "seed": Key(
        "the run's seed; every random choice derives from (seed, generation, purpose)", bound="[0, {seed_limit})"
    ),
    "search.population": Key("genomes per generation"),
    "search.generations": Key("generations to run (`--generations` overrides)"),
    "search.shared_weights": Key(
        "the shared weight values each genome is scored at",
        bound="1 to `limits.shared_weights` distinct values in [-{max_abs_weight}, {max_abs_weight}]",
    ),
    "search.rollouts": Key("episodes per shared weight (the same seeds for every genome)"),
    "search.p_init": Key("probability of each initial input-output connection"),
    "search.tournament": Key("tournament size", note="at most `search.population`"),
    "search.cull": Key("share of the ranked population removed", note="at least 2 parents left"),
    "search.elite": Key("share of the survivors copied unchanged"),
    "search.connection_objective_prob": Key(
        "probability that a generation ranks on (mean, connections) instead of (mean, max)"
    ),
    "variation.add_connection": Key(
        "weight of the add-connection operator (the four operator weights are normalised)", note="not all four 0"
    ),
    "variation.insert_node": Key("weight of the insert-node operator (splits an enabled connection)"),
    "variation.enable": Key("weight of the re-enable operator (turns a disabled connection back on)"),
    "variation.change_activation": Key("weight of the change-activation operator"),
    "variation.mutate_output_activation": Key("let change-activation act on output nodes too"),
    "variation.connection_rule": Key(
        "add-connection rule: any acyclic new edge, or the reference's strictly-later-layer rule",
        bound='`"acyclic"` or `"layered"`',
    ),
    "variation.activations": Key(
        "activation ids hidden nodes may take", default="the task's set", bound="ids {activation_ids}"
    ),
    "execution.executor": Key("where evaluation runs (`--executor`)", bound='`"ray"` or `"serial"`'),
    "execution.workers": Key(
        "Ray evaluator actors; 0 = one per CPU (`--workers`); island runs: in all, `workers // count` per island",
        bound="[0, {max_workers}]",
    ),
    "execution.address": Key(
        "a Ray cluster to attach to (`--address`, `RAY_ADDRESS`); empty: a local Ray",
        bound="`HOST:PORT` or empty",
    ),
    "islands.count": Key(
        "islands, one Ray actor each, the population split as evenly as possible (no `[islands]` table: one "
        "population)",
        bound="[1, {max_workers}]",
        note="every island at least 4 genomes, 2 parents and the tournament size",
    ),
    "islands.migration_interval": Key("generations per epoch: islands exchange migrants every this many"),
    "islands.migrants": Key(
        "genomes each island sends to each neighbour per epoch (0: independent islands)",
        note="what an island receives per epoch (x (count - 1) when `full`) below its size",
    ),
    "islands.topology": Key(
        '`"ring"`: to the next island; `"full"`: to every other island', bound='`"ring"` or `"full"`'
    ),
    "limits.population": Key("bound on `search.population`"),
    "limits.generations": Key("bound on `search.generations`"),
    "limits.rollouts": Key("bound on `search.rollouts`"),
    "limits.shared_weights": Key("bound on the number of `search.shared_weights`"),
    "limits.tournament": Key("bound on `search.tournament`"),
    "limits.max_steps": Key("bound on `task.max_steps`"),
    "limits.episodes_per_generation": Key("bound on population x shared weights x rollouts"),
}

#: the [task] table: not a dataclass (a task's options are its factory's), so all written down
TASK: dict[str, Key] = {
    "task.name": Key(
        "the problem: a task of the Tasks table (`wann tasks`); `module:Env-v0` imports `module` first", type="string"
    ),
    "task.import": Key(
        "modules imported first, by the driver and every Ray worker (see Bring your own task)",
        type="list of strings",
        default="none",
    ),
    "task.max_steps": Key("episode step limit", type="integer", default="the task's", bound="[1, `limits.max_steps`]"),
    "task.env_kwargs": Key("Gymnasium tasks: keyword arguments passed to `gym.make`", type="table", default="`{{}}`"),
    "task.no_fall_penalty": Key(
        "BipedalWalker only: remove the -100 on falling, as the reference code does", type="bool", default="`false`"
    ),
    "task.vectorized": Key(
        "classic control through compiled kernels or exact numpy twins; `false` steps the real Gymnasium environments",
        type="bool",
        default="`true`",
    ),
    "task.kernel": Key(
        'classic control (`vectorized = true`, no `env_kwargs`): `"fused"` runs network and physics in one '
        'compiled kernel; `"numpy"` steps the numpy twins from Python (the same numbers, slower; Acrobot-v1\'s '
        "fused kernel uses vectorised trig within 1 ulp of the C library's, so its episodes agree with "
        'Gymnasium\'s in distribution, usually exactly, and `"numpy"` is Gymnasium\'s arithmetic bit for bit)',
        type="string",
        default='`"fused"`',
        bound='`"fused"` or `"numpy"`',
    ),
    "task.test_fraction": Key(
        "classification: share held out as the test split (mnist1d keeps its own split unless this or "
        "`split_seed` is given)",
        type="number",
        default="`{test_fraction}`",
        bound="(0, 1)",
    ),
    "task.split_seed": Key(
        "classification: seed of the stratified train/test split",
        type="integer",
        default="`{split_seed}`",
        bound=">= 0",
    ),
    "task.batch_size": Key(
        "classification: examples in the batch a generation shares",
        type="integer",
        default="min(1000, training split)",
        bound="[1, training split]",
    ),
}

# ---- what is written down: study files -------------------------------------------------------

#: study keys by path; `default` here when the key is required or its default is derived
STUDY: dict[str, Key] = {
    "study.name": Key(
        "names the study (and its default results folder)", type="string", default="required", bound=NAME_BOUND
    ),
    "study.seeds": Key(
        "independent runs: one WANN search and one training of every counterpart each",
        type="list of integers",
        default="required",
        bound="at least one, distinct, in [0, {seed_limit})",
    ),
    "study.methods": Key(
        "the counterparts to run (`wann.METHODS`, as `wann train` takes them)",
        type="list of strings",
        default="every method the task's kind supports",
        bound="distinct method names",
    ),
    "study.sizes": Key(
        "multiples of the champion's live connections for the sized methods",
        type="list of numbers",
        bound="at least one, distinct, in (0, 20]",
    ),
    "study.test_episodes": Key("fresh episodes behind every RL score", type="integer", bound="[1, {max_episodes}]"),
    "study.landscape_episodes": Key(
        "episodes per point of the landscape measures (0 = off)", type="integer", bound="[0, {max_episodes}]"
    ),
    "study.landscapes": Key(
        "which cells get the landscape measures: all, or only the base cells (1x / unsized / dense0)",
        type="string",
        bound='`"all"` or `"base"`',
    ),
    "study.inits": Key(
        "initial-weight schemes; the first is the base every cell uses, the others run at 1x",
        type="list of strings",
        bound="distinct, of {inits}",
    ),
    "study.replicates": Key(
        "initialisations per fixed structure, at 1x and the base scheme (1 = none)", type="integer", bound="[1, 100]"
    ),
    "study.prune_times": Key(
        "timed methods (`pruned_at`, `pruned_at_rewind`) prune after these fractions of the parent's training, at 1x",
        type="list of numbers",
        bound="distinct, in (0, 1]",
    ),
    "study.half_search": Key("also assess each search's champion at half its generations", type="bool"),
    "study.out": Key(
        "results folder, relative to the study file (`--out` overrides); without it the results go to "
        "`runs/NAME` in the current directory (the studies in `experiments/` leave it out, so that no run "
        "writes into their committed results)",
        type="string",
        default="`runs/NAME`",
    ),
    "execution.executor": Key("where cells run (`--executor`)", type="string", bound='`"ray"` or `"serial"`'),
    "execution.workers": Key("cells at once; 0 = one per CPU (`--workers`)", type="integer", bound=">= 0"),
    "execution.address": Key(
        "a Ray cluster to attach to (`--address`); empty: a local Ray", type="string", bound="`HOST:PORT` or empty"
    ),
    "tasks.label": Key(
        "names the task's rows and files",
        type="string",
        default="the task's name after its last `/`",
        bound=NAME_BOUND + ", unique",
    ),
    "tasks.search": Key(
        "experiment file of the task's WANN search, run once per seed (its seed replaced), relative to the study file",
        type="string (path)",
        default="exactly one of `search`, `champion`",
    ),
    "tasks.champion": Key(
        "a fixed champion genome for every seed instead of a search", type="string (path)", default="(see `search`)"
    ),
    "tasks.task": Key(
        "the task (name and options)",
        type="table",
        default="the search's `[task]`, or the one the champion records",
        bound="equal to the search's `[task]`",
    ),
    "tasks.budget": Key(
        "training budget of every counterpart, met exactly: RL episodes (CMA-ES, NEAT); classification: NEAT's",
        type="integer",
        default="required",
        bound="[1, {max_budget}]",
    ),
    "tasks.epochs": Key(
        "classification: Adam epochs of every torch-trained counterpart", type="integer", bound="[1, 100000]"
    ),
    "tasks.dense": Key(
        "dense hidden widths; the first is the parent the pruned nets come from",
        type="list of lists of integers",
        default="the task's reference widths",
        bound="1-16 layers of 1-100,000 units (classification: one layer)",
    ),
    "claims.id": Key(
        "names the claim", type="string", default="required", bound="lower-case letters, digits, `-`; up to 64; unique"
    ),
    "claims.text": Key("the claim in words, written before the run", type="string", default="required"),
    "claims.test": Key(
        "`greater`: a > b; `equivalent`: \\|a - b\\| < margin (TOST); `variance`: structure share > init share",
        type="string",
        default="required",
        bound="{claim_tests}",
    ),
    "claims.a": Key(
        'the first arm, `"method/variant"` as in cell ids (e.g. `"wann_best_shared/-"`); a variance claim may '
        "list several",
        type="string (or list of strings)",
        default="required",
        bound="a method of `wann.METHODS`",
    ),
    "claims.b": Key(
        "the second arm",
        type="string",
        default="required (none for `variance`)",
        bound="a method of `wann.METHODS`",
    ),
    "claims.margin": Key(
        "equivalence margin in score units", type="number", default="the task's margin rule", bound="(0, 10^9)"
    ),
}

#: a study file's tables, as printed, and the code's set of keys for each
STUDY_TABLES = {
    "study": ("[study]", "wann.study.spec", "_STUDY_KEYS"),
    "execution": ("[execution]", "wann.study.spec", "_EXEC_KEYS"),
    "tasks": ("[[tasks]]", "wann.study.spec", "_TASK_KEYS"),
    "claims": ("[[claims]]", "wann.study.axes", "_CLAIM_KEYS"),
}

#: what `settings_doc` cannot read from the code, and so is written down above (for its readers)
NOT_INTROSPECTED = (
    "every meaning",
    "[task]: types, defaults and bounds (a task's options are read by its factory's code, not declared)",
    "experiment bounds made by a plain lambda (name, seed, shared_weights, activations, executor, workers, "
    "address, islands.count, islands.topology) and the notes beside derived bounds",
    "study files: types and bounds (checked by code in study_from_dict / parse_axes / parse_claims), and the "
    "defaults of required or derived keys (name, seeds, methods, out, label, search, champion, task, budget, "
    "dense, every claim key)",
)
