"""The compiled genome arrays: one numba pass over a whole batch, element for element the same as
the per-genome Python construction."""

import numpy as np
import pytest

from wann.compiled import compile_genomes, compile_genomes_python
from wann.errors import GenomeError
from wann.genome import Connection, Genome
from wann.search.variation import VariationSettings, mutate

FIELDS = ("node_ptr", "act", "in_ptr", "in_src", "edge_conn", "edge_ptr", "out_local")


def _lineage(n_in: int, n_out: int, n: int, seed: int) -> list[Genome]:
    """Genomes of every size along mutation chains (disabled connections, split nodes, new ids)."""
    rng = np.random.default_rng(seed)
    s = VariationSettings(add_connection=0.4, insert_node=0.3, enable=0.1, change_activation=0.2)
    out = []
    g = Genome.initial(n_in, n_out, rng, 0.5)
    for k in range(n):
        g = mutate(g, rng, s)
        out.append(g)
        if k % 40 == 39:  # a new chain
            g = Genome.initial(n_in, n_out, rng, 0.5)
    return out


@pytest.mark.parametrize("n_in, n_out, seed", [(5, 1, 0), (4, 2, 1), (24, 4, 2), (2, 3, 3)])
def test_batch_arrays_are_the_python_construction(n_in, n_out, seed):
    genomes = _lineage(n_in, n_out, 160, seed)
    assert any(not c.enabled for g in genomes for c in g.connections)
    assert max(len(g.hidden) for g in genomes) >= 5
    fast, ref = compile_genomes(genomes), compile_genomes_python(genomes)
    for f in FIELDS:
        assert np.array_equal(getattr(fast, f), getattr(ref, f)), f
        assert getattr(fast, f).dtype == np.int64
    one = compile_genomes(genomes[-1:])  # and a batch of one
    ref1 = compile_genomes_python(genomes[-1:])
    for f in FIELDS:
        assert np.array_equal(getattr(one, f), getattr(ref1, f)), f


def test_the_order_is_the_genomes_topological_order():
    g = _lineage(5, 1, 120, 7)[-1]
    b = compile_genomes([g])
    order = [i for i in g.topological_order() if i > g.n_inputs]
    acts = {n.id: n.activation for n in g.nodes}
    assert list(b.act[g.n_inputs + 1 :]) == [acts[i] for i in order]


def test_a_cycle_is_a_genome_error_naming_its_nodes():
    g = _lineage(3, 1, 60, 5)[-1]
    hidden = [n.id for n in g.hidden]
    assert hidden
    h = hidden[0]
    out = g.n_inputs + 1
    bad = Genome(g.n_inputs, g.n_outputs, g.nodes, (*g.connections, Connection(h, out), Connection(out, h)))
    with pytest.raises(GenomeError, match="cycle"):
        compile_genomes([g, bad])


def test_mixed_inputs_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="same inputs and outputs"):
        compile_genomes([Genome.initial(5, 1, rng, 0.5), Genome.initial(4, 1, rng, 0.5)])
