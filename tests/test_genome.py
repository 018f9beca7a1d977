import json

import numpy as np
import pytest

from wann.errors import GenomeError
from wann.genome import Connection, Genome, Node, summary


def test_initial_genome_shape():
    g = Genome.initial(5, 1, np.random.default_rng(0), 0.5).validate()
    assert [n.kind for n in g.nodes] == ["bias"] + ["input"] * 5 + ["output"]
    assert len(g.connections) == 6 and all(c.destination == 6 for c in g.connections)
    assert 1 <= g.n_connections <= 6


def test_initial_genome_never_empty():
    for s in range(50):
        assert Genome.initial(5, 1, np.random.default_rng(s), 0.01).n_connections >= 1


def test_json_round_trip(small_genomes):
    for g in small_genomes:
        g2 = Genome.from_dict(json.loads(g.with_meta(task={"name": "x"}).to_json()))
        assert g2 == g
        assert g2.meta == {"task": {"name": "x"}}
        assert g2.fingerprint() == g.fingerprint()


def _base():
    return Genome(
        1,
        1,
        (Node(0, "bias"), Node(1, "input"), Node(2, "output"), Node(3, "hidden", 5)),
        (Connection(1, 3), Connection(3, 2)),
    )


def test_rejects_cycle():
    g = _base()
    bad = Genome(1, 1, g.nodes, g.connections + (Connection(2, 3),))
    with pytest.raises(GenomeError, match="cycle"):
        bad.validate()


def test_rejects_dangling_ids():
    g = _base()
    bad = Genome(1, 1, g.nodes, g.connections + (Connection(1, 9),))
    with pytest.raises(GenomeError, match="missing node 9"):
        bad.validate()


def test_rejects_unknown_activation():
    g = _base()
    bad = Genome(1, 1, g.nodes[:3] + (Node(3, "hidden", 42),), g.connections)
    with pytest.raises(GenomeError, match="unknown activation 42"):
        bad.validate()


def test_rejects_edge_into_input_and_duplicates():
    g = _base()
    with pytest.raises(GenomeError, match="ends at a input"):
        Genome(1, 1, g.nodes, g.connections + (Connection(3, 1),)).validate()
    with pytest.raises(GenomeError, match="duplicated"):
        Genome(1, 1, g.nodes, g.connections + (Connection(1, 3, False),)).validate()


def test_load_corrupt_file(tmp_path):
    p = tmp_path / "g.json"
    p.write_text('{"format": "wann.genome/1", "inputs": 1, ')
    with pytest.raises(GenomeError, match="not valid JSON"):
        Genome.load(p)
    p.write_text(json.dumps({"inputs": 1, "outputs": 1, "nodes": [], "connections": []}))
    with pytest.raises(GenomeError, match="node 0 \\(bias\\) is missing"):
        Genome.load(p)
    p.write_text(json.dumps({"inputs": "one", "outputs": 1, "nodes": [], "connections": []}))
    with pytest.raises(GenomeError, match="inputs: expected an integer"):
        Genome.load(p)
    with pytest.raises(GenomeError, match="does not exist"):
        Genome.load(tmp_path / "missing.json")


def test_summary_counts():
    s = summary(_base())
    assert s["hidden"] == 1 and s["connections"] == 2 and s["depth"] == 2
    assert s["hidden_activations"] == {"tanh": 1}
