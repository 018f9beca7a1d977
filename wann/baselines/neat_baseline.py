"""NEAT (Stanley & Miikkulainen 2002) through neat-python: topology and weights evolved together,
at a given episode budget, every genome scored with the project's own evaluator.

A neat-python genome is converted exactly: node value = tanh(2.5 (bias + response * sum w x))
(neat-python's tanh has the factor 2.5) becomes our tanh node with incoming weights
2.5 * response * w and a bias edge of weight 2.5 * bias. Input ids -1..-n map to 1..n, output ids
0..m-1 to n+1..n+m, hidden nodes follow.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from wann import activations
from wann.baselines.cmaes import score
from wann.baselines.common import Budget, CpuClock, TrainResult
from wann.genome import BIAS, HIDDEN, INPUT, OUTPUT, Connection, Genome, Node
from wann.seeds import derived_rng
from wann.weighted import WeightedNetwork

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


def train_neat(
    executor,
    task,
    budget_episodes: int,
    seed: int,
    pop: int = 64,
    episodes_per_genome: int = 4,
    test_episodes: int = 100,
    progress=None,
) -> TrainResult:
    """Run neat-python for budget_episodes / (pop * episodes_per_genome) generations."""
    import random

    import neat

    random.seed(seed)
    config = neat_config(task.n_inputs, task.n_outputs, pop)
    population = neat.Population(config, seed=seed) if _accepts_seed() else neat.Population(config)
    generations = max(1, budget_episodes // (pop * episodes_per_genome))
    budget = Budget()
    clock = CpuClock(executor)
    best: list = [None, -np.inf]
    gen = [0]

    def fitness(genomes, cfg):
        gen[0] += 1
        seeds = [int(derived_rng(seed, gen[0], 9).integers(2**30)) + k for k in range(episodes_per_genome)]
        for _, ng in genomes:
            net = convert(ng, task.n_inputs, task.n_outputs)
            r, st = executor.evaluate_weights(net.genome, net.weights[None, :], seeds)
            ng.fitness = float(r.mean())
            budget.add(r.size, st.sum())
            if ng.fitness > best[1]:
                best[:] = [net, ng.fitness]
        budget.cpu_s += clock.lap()
        if progress and gen[0] % max(1, generations // 10) == 0:
            progress(f"neat: generation {gen[0]}/{generations}, best {best[1]:.1f}")

    winner = population.run(fitness, generations)
    net = convert(winner, task.n_inputs, task.n_outputs)
    return TrainResult(
        "neat",
        net,
        score(executor, net, test_episodes),
        budget,
        info={"generations": generations, "population": pop, "best_training_fitness": best[1]},
    )


def _accepts_seed() -> bool:
    import inspect

    import neat

    return "seed" in inspect.signature(neat.Population.__init__).parameters
