import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from wann import activations
from wann.genome import Connection, Genome, Node
from wann.search.variation import (
    VariationSettings,
    add_connection,
    candidate_connections,
    change_activation,
    layered_connections,
    mutate,
)

LAYERED = VariationSettings(connection_rule="layered")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 120), n_in=st.integers(1, 6), n_out=st.integers(1, 3))
def test_mutation_chains_stay_valid(seed, steps, n_in, n_out):
    rng = np.random.default_rng(seed)
    s = VariationSettings(mutate_output_activation=bool(seed % 2))
    g = Genome.initial(n_in, n_out, rng, 0.5)
    for _ in range(steps):
        g = mutate(g, rng, s)
        g.validate()  # acyclic, no dangling ids, known activations, no duplicate edges
    assert g.n_connections >= 0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_outputs_keep_activation_by_default(seed):
    rng = np.random.default_rng(seed)
    g = Genome.initial(3, 2, rng, 0.5)
    for _ in range(100):
        g = mutate(g, rng, VariationSettings())
    assert all(g.node(o).activation == activations.LINEAR for o in g.output_ids)


def test_output_activation_mutation_is_an_option():
    rng = np.random.default_rng(0)
    g = Genome.initial(2, 1, rng, 1.0)  # no hidden node: only the output can change
    s = VariationSettings(mutate_output_activation=True)
    assert change_activation(g, rng, s).node(3).activation != activations.LINEAR
    assert change_activation(g, rng, VariationSettings()) is None


def test_add_connection_reaches_same_layer_edges():
    # two hidden nodes in the same layer: the reference's "strictly later layer" rule can never
    # connect them; any acyclic edge is allowed here (reference issue #18)
    nodes = (Node(0, "bias"), Node(1, "input"), Node(2, "output"), Node(3, "hidden"), Node(4, "hidden"))
    conns = (Connection(1, 3), Connection(1, 4), Connection(3, 2), Connection(4, 2))
    g = Genome(1, 1, nodes, conns).validate()
    pairs = set(candidate_connections(g))
    assert (3, 4) in pairs and (4, 3) in pairs
    assert (2, 3) not in pairs  # would close the cycle 3 -> 2 -> 3
    rng = np.random.default_rng(1)
    made = set()
    for _ in range(200):
        c = add_connection(g, rng, VariationSettings()).connections[-1]
        made.add((c.source, c.destination))
    assert {(3, 4), (4, 3)} <= made


def test_layered_rule_only_links_strictly_later_layers():
    # 1 -> 3 -> 4 -> 2 and 1 -> 5 -> 2: layers bias/input 0, node 3 and 5 layer 1, node 4
    # layer 2, output 2 layer 3 (after the last hidden layer)
    nodes = (Node(0, "bias"), Node(1, "input"), Node(2, "output"))
    nodes += (Node(3, "hidden"), Node(4, "hidden"), Node(5, "hidden"))
    conns = (Connection(1, 3), Connection(3, 4), Connection(4, 2), Connection(1, 5), Connection(5, 2, False))
    g = Genome(1, 1, nodes, conns).validate()
    got = layered_connections(g)
    assert got == {0: [2, 3, 4, 5], 1: [2, 4], 3: [2], 5: [4]}  # 5 -> 2 exists (disabled)
    assert 2 not in got  # an output feeds nothing
    assert (3, 5) in set(candidate_connections(g)) and 5 not in got[3]  # same layer: acyclic only
    # the draw: a source uniformly among those with a candidate, then a destination uniformly
    rng = np.random.default_rng(0)
    counts: dict[tuple[int, int], int] = {}
    n = 6000
    for _ in range(n):
        c = add_connection(g, rng, LAYERED).connections[-1]
        counts[(c.source, c.destination)] = counts.get((c.source, c.destination), 0) + 1
    expected = {(s, d): 1 / len(got) / len(ds) for s, ds in got.items() for d in ds}
    assert set(counts) == set(expected)
    for k, p in expected.items():
        assert abs(counts[k] / n - p) < 0.02, (k, counts[k] / n, p)


def test_layered_rule_leaves_out_edges_that_close_a_cycle():
    # an output feeding a hidden node (possible under the acyclic rule): the output sits in the
    # last layer, and hidden 3 -> output 2 would close 2 -> 3 -> 2
    nodes = (Node(0, "bias"), Node(1, "input"), Node(2, "output"), Node(3, "hidden"))
    g = Genome(1, 1, nodes, (Connection(1, 2), Connection(2, 3))).validate()
    got = layered_connections(g)
    assert 2 not in got.get(3, [])
    rng = np.random.default_rng(2)
    for _ in range(50):
        add_connection(g, rng, LAYERED).validate()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 120))
def test_layered_chains_stay_valid_and_outputs_feed_nothing(seed, steps):
    rng = np.random.default_rng(seed)
    g = Genome.initial(4, 2, rng, 0.5)
    for _ in range(steps):
        g = mutate(g, rng, LAYERED)
        g.validate()
    assert not any(c.source in g.output_ids for c in g.connections)


def test_operator_frequencies_follow_probabilities():
    rng = np.random.default_rng(3)
    s = VariationSettings()
    g = Genome.initial(5, 1, rng, 1.0)
    for _ in range(30):
        g = mutate(g, rng, s)
    counts = {"add": 0, "insert": 0, "act": 0, "enable": 0}
    for _ in range(4000):
        c = mutate(g, rng, s)
        if len(c.nodes) > len(g.nodes):
            counts["insert"] += 1
        elif len(c.connections) > len(g.connections):
            counts["add"] += 1
        elif c.nodes != g.nodes:
            counts["act"] += 1
        elif c.connections != g.connections:
            counts["enable"] += 1
    assert abs(counts["insert"] / 4000 - 0.25) < 0.03
    assert abs(counts["add"] / 4000 - 0.20) < 0.03
    assert abs(counts["act"] / 4000 - 0.50) < 0.03
