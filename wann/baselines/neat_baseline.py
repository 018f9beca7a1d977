"""NEAT (Stanley & Miikkulainen 2002) through neat-python: topology and weights evolved together,
at a given episode budget, every genome scored with the project's own evaluator.

A neat-python genome is converted exactly: node value = tanh(2.5 (bias + response * sum w x))
(neat-python's tanh has the factor 2.5) becomes our tanh node with incoming weights
2.5 * response * w and a bias edge of weight 2.5 * bias. Input ids -1..-n map to 1..n, output ids
0..m-1 to n+1..n+m, hidden nodes follow.

Budget: a generation costs pop x episodes_per_genome episodes (RL: 64 x 4, as CMA-ES scores a
candidate on 4 episodes; classification: 64 x 1, an "episode" being a minibatch of up to 1,000
training examples, already an average, and the whole deterministic training split on the small
data sets, where repeating it would only repeat the same number). Checkpoints: the best genome
so far (by training fitness) scored at 10/25/50/100 % of the generations, as `cmaes` does.

Where NEAT is a baseline (`neat_supported`; measured on a 2-core CPU, pop 64, tanh outputs,
best genome so far scored on 100 fresh episodes / the test split):

- CartPole-v1: at 7 generations (1,792 episodes, what the study's 2,000 buy) 500 / 500 / 480.3
  over 100 fresh episodes (seeds 0, 1, 2); at 2 generations 500 / 152 / 480 (the WANN with
  random individual weights: 49-149 in study-small). Swing-up at 50,000 episodes (195
  generations): 600-730 (study-small).
- wine: 92.5 / 96.2 / 92.5 % test accuracy at 15 generations (960 evaluations, < 1 CPU-s), 92.5
  / 94.3 / 98.1 % at 60 (majority class 39.6 %); breast_cancer 96.5 % at 15 (seed 0).
- digits: not a baseline at any budget a study affords: 21.7 % at 15 generations, 47.3 % at
  60-200, 41.2 % at 400 (25,600 evaluations, 158 CPU-s); population 256: 19.5 % after 50
  generations (12,800 evaluations, 89 CPU-s). Linear (logit) outputs are worse (24.1 % at 200
  generations of 64). The dense net reaches 97 % in 60 Adam epochs; NEAT adds one connection
  at a time, and 64 inputs x 10 classes (640 direct connections) is beyond what it finds in
  these budgets.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from wann import activations
from wann.baselines.cmaes import score
from wann.baselines.common import CHECKPOINTS, Budget, CpuClock, TrainResult
from wann.genome import BIAS, HIDDEN, INPUT, OUTPUT, Connection, Genome, Node
from wann.seeds import CHECKPOINT_OFFSET, TEST_SEED, derived_rng
from wann.tasks.base import TaskKind
from wann.weighted import WeightedNetwork

#: NEAT's population
POPULATION = 64
#: episodes each genome is scored on, per task kind (see the module docstring)
EPISODES_PER_GENOME = {TaskKind.RL: 4, TaskKind.CLASSIFY: 1}
#: fewest generations at which NEAT was measured to be a real baseline, per task kind
MIN_GENERATIONS = {TaskKind.RL: 5, TaskKind.CLASSIFY: 15}
#: classification: most direct input -> class connections (inputs x classes) at which NEAT was
#: measured to be a real baseline (wine 39, breast_cancer 60, iris 12; digits 640 is not)
MAX_CLASSIFY_DIRECT = 200
DIGITS_NOTE = "measured: 41-47 % test accuracy after 60-400 generations of 64 (dense net: 97 %)"

CONFIG = """
[NEAT]
fitness_criterion     = max
fitness_threshold     = 1e12
no_fitness_termination = True
pop_size              = {pop}
reset_on_extinction   = True

[DefaultGenome]
num_inputs            = {n_in}
num_outputs           = {n_out}
num_hidden            = 0
feed_forward          = True
initial_connection    = partial_direct 0.5
activation_default    = tanh
activation_mutate_rate = 0.0
activation_options    = tanh
aggregation_default   = sum
aggregation_mutate_rate = 0.0
aggregation_options   = sum
bias_init_mean        = 0.0
bias_init_stdev       = 1.0
bias_init_type        = gaussian
bias_max_value        = 30.0
bias_min_value        = -30.0
bias_mutate_power     = 0.5
bias_mutate_rate      = 0.7
bias_replace_rate     = 0.1
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient   = 0.5
conn_add_prob         = 0.5
conn_delete_prob      = 0.5
enabled_default       = True
enabled_mutate_rate   = 0.01
enabled_rate_to_true_add  = 0.0
enabled_rate_to_false_add = 0.0
node_add_prob         = 0.2
node_delete_prob      = 0.2
response_init_mean    = 1.0
response_init_stdev   = 0.0
response_init_type    = gaussian
response_max_value    = 30.0
response_min_value    = -30.0
response_mutate_power = 0.0
response_mutate_rate  = 0.0
response_replace_rate = 0.0
weight_init_mean      = 0.0
weight_init_stdev     = 1.0
weight_init_type      = gaussian
weight_max_value      = 30
weight_min_value      = -30
weight_mutate_power   = 0.5
weight_mutate_rate    = 0.8
weight_replace_rate   = 0.1
single_structural_mutation = False
structural_mutation_surer = default

[DefaultSpeciesSet]
compatibility_threshold = 3.0

[DefaultStagnation]
species_fitness_func = max
max_stagnation       = 20
species_elitism      = 2

[DefaultReproduction]
elitism            = 2
survival_threshold = 0.2
min_species_size   = 2
"""


def neat_config(n_in: int, n_out: int, pop: int):
    import neat

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "neat.cfg"
        path.write_text(CONFIG.format(pop=pop, n_in=n_in, n_out=n_out))
        return neat.Config(
            neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet, neat.DefaultStagnation, str(path)
        )


def convert(ng, n_in: int, n_out: int) -> WeightedNetwork:
    """A neat-python DefaultGenome -> WeightedNetwork computing the same function."""
    ids = {-(i + 1): i + 1 for i in range(n_in)}
    ids.update({k: n_in + 1 + k for k in range(n_out)})
    hidden = sorted(k for k in ng.nodes if k >= n_out)
    for j, k in enumerate(hidden):
        ids[k] = n_in + n_out + 1 + j
    nodes = [Node(0, BIAS)] + [Node(i, INPUT) for i in range(1, n_in + 1)]
    nodes += [Node(n_in + 1 + k, OUTPUT, activations.TANH) for k in range(n_out)]
    nodes += [Node(ids[k], HIDDEN, activations.TANH) for k in hidden]
    conns, weights = [], []
    for k in list(range(n_out)) + hidden:
        node = ng.nodes[k]
        conns.append(Connection(0, ids[k], True))
        weights.append(2.5 * node.bias)
    for (a, b), cg in sorted(ng.connections.items()):
        if a not in ids or b not in ids:
            continue
        conns.append(Connection(ids[a], ids[b], bool(cg.enabled)))
        weights.append(2.5 * ng.nodes[b].response * cg.weight)
    g = Genome(n_in, n_out, tuple(sorted(nodes, key=lambda n: n.id)), tuple(conns)).validate()
    return WeightedNetwork(g, np.asarray(weights), {"method": "neat"})


def _kind(task) -> str:
    return getattr(task, "kind", TaskKind.RL)


def generations_for(task, budget_episodes: int, pop: int = POPULATION, episodes_per_genome: int | None = None) -> int:
    """Generations a budget buys: budget // (pop * episodes per genome), at least one."""
    epg = episodes_per_genome or EPISODES_PER_GENOME[_kind(task)]
    return max(1, int(budget_episodes) // (pop * epg))


def neat_supported(
    task, budget_episodes: int, pop: int = POPULATION, episodes_per_genome: int | None = None
) -> tuple[bool, str]:
    """Whether NEAT is a real baseline on `task` at this budget (the rule measured in the module
    docstring), and the reason in one sentence: a study leaves NEAT out of a task where it is
    not, and reports the reason."""
    kind = _kind(task)
    g = generations_for(task, budget_episodes, pop, episodes_per_genome)
    if kind == TaskKind.CLASSIFY:
        direct = task.n_inputs * task.n_outputs
        if direct > MAX_CLASSIFY_DIRECT:
            return False, (
                f"NEAT is not a baseline on {task.name} ({task.n_inputs} inputs x {task.n_outputs} classes = "
                f"{direct} direct connections, more than the {MAX_CLASSIFY_DIRECT} where it was measured to work; "
                f"on digits {DIGITS_NOTE})"
            )
    need = MIN_GENERATIONS[kind]
    if g < need:
        epg = episodes_per_genome or EPISODES_PER_GENOME[kind]
        return False, (
            f"a budget of {budget_episodes} episodes buys {g} NEAT generation(s) of {pop}; NEAT needs at least "
            f"{need} on a {kind} task ({need * pop * epg} episodes) to be a real baseline"
        )
    return True, f"{g} generations of {pop} (at least {need} needed on a {kind} task)"


def train_neat(
    executor,
    task,
    budget_episodes: int,
    seed: int,
    pop: int = POPULATION,
    episodes_per_genome: int | None = None,
    test_episodes: int = 100,
    progress=None,
    checkpoint_episodes: int = 20,
) -> TrainResult:
    """Run neat-python for budget_episodes / (pop * episodes_per_genome) generations
    (episodes_per_genome: `EPISODES_PER_GENOME` of the task kind when None). info records
    `neat_supported`'s verdict ("supported", "support_reason")."""
    import random

    import neat

    random.seed(seed)
    epg = episodes_per_genome or EPISODES_PER_GENOME[_kind(task)]
    config = neat_config(task.n_inputs, task.n_outputs, pop)
    population = neat.Population(config, seed=seed) if _accepts_seed() else neat.Population(config)
    generations = generations_for(task, budget_episodes, pop, epg)
    marks = {max(1, math.ceil(f * generations)): f for f in CHECKPOINTS}
    budget = Budget()
    clock = CpuClock(executor)
    best: list = [None, -np.inf]
    gen = [0]
    checkpoints: list[dict] = []

    def fitness(genomes, cfg):
        gen[0] += 1
        seeds = [int(derived_rng(seed, gen[0], 9).integers(2**30)) + k for k in range(epg)]
        for _, ng in genomes:
            net = convert(ng, task.n_inputs, task.n_outputs)
            r, st = executor.evaluate_weights(net.genome, net.weights[None, :], seeds)
            ng.fitness = float(r.mean())
            budget.add(r.size, st.sum())
            if ng.fitness > best[1]:
                best[:] = [net, ng.fitness]
        budget.cpu_s += clock.lap()
        if gen[0] in marks:
            s = score(executor, best[0], checkpoint_episodes, TEST_SEED + CHECKPOINT_OFFSET)
            checkpoints.append(
                {
                    "fraction": marks[gen[0]],
                    "episodes": budget.episodes,
                    "env_steps": budget.env_steps,
                    "cpu_s": budget.cpu_s,
                    "score_mean": s["mean"],
                    "score_sd": s["sd"],
                }
            )
            clock.lap()  # checkpoint scoring is not charged, as in `cmaes`
        if progress and gen[0] % max(1, generations // 10) == 0:
            progress(f"neat: generation {gen[0]}/{generations}, best {best[1]:.1f}")

    winner = population.run(fitness, generations)
    net = convert(winner, task.n_inputs, task.n_outputs)
    ok, why = neat_supported(task, budget_episodes, pop, epg)
    return TrainResult(
        "neat",
        net,
        score(executor, net, test_episodes),
        budget,
        checkpoints,
        info={
            "generations": generations,
            "population": pop,
            "episodes_per_genome": epg,
            "best_training_fitness": best[1],
            "supported": ok,
            "support_reason": why,
        },
    )


def _accepts_seed() -> bool:
    import inspect

    import neat

    return "seed" in inspect.signature(neat.Population.__init__).parameters
