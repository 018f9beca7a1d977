import numpy as np

from wann.evaluate import evaluate
from wann.network import compile_genomes, edge_weights_from_connections
from wann.tasks import make_task

W = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)


def test_rewards_do_not_depend_on_the_batch(small_genomes):
    task = make_task("wann/CartPoleSwingUp-v0")
    seeds = [100, 101, 102]
    whole = evaluate(task, small_genomes, W, seeds)
    for i in (0, 5, len(small_genomes) - 1):
        alone = evaluate(task, [small_genomes[i]], W, seeds)
        assert np.array_equal(alone.rewards[0], whole.rewards[i])
        assert np.array_equal(alone.steps[0], whole.steps[i])
    rev = evaluate(task, small_genomes[::-1], W, seeds)
    assert np.array_equal(rev.rewards[::-1], whole.rewards)


def test_common_random_numbers(small_genomes):
    # the same rollout seed gives every genome and every weight the same start state: a genome
    # with no enabled connection to the output acts identically (0) at every weight
    task = make_task("wann/CartPoleSwingUp-v0")
    ev = evaluate(task, small_genomes[:3], W, [5, 6])
    assert ev.rewards.shape == (3, 6, 2) and ev.episodes == 36
    assert ev.env_steps == ev.steps.sum() > 0
    from wann.genome import Connection, Genome

    g = small_genomes[0]
    dead = Genome(
        g.n_inputs, g.n_outputs, g.nodes, tuple(Connection(c.source, c.destination, False) for c in g.connections)
    )
    r = evaluate(task, [dead], W, [5, 6]).rewards[0]
    assert np.all(r == r[0:1, :])  # same per rollout across weights
    assert r[0, 0] != r[0, 1]  # different rollout seeds, different starts


def test_individual_weights_equal_to_shared_match(small_genomes):
    task = make_task("wann/CartPoleSwingUp-v0")
    b = compile_genomes(small_genomes)
    gi = 4
    g = small_genomes[gi]
    ew = edge_weights_from_connections(b, gi, np.full((2, len(g.connections)), 0.5))
    r_ind, _ = task.run_episodes(b, np.full(2, gi), np.zeros(2), np.array([1, 2]), ew)
    r_sh, _ = task.run_episodes(b, np.full(2, gi), np.full(2, 0.5), np.array([1, 2]))
    # w*sum(x) vs sum(w*x): equal up to rounding, which a short chaotic episode can amplify
    assert np.allclose(r_ind, r_sh, rtol=1e-3, atol=1.0)


def test_assessment_is_typed_and_round_trips():
    from pathlib import Path

    from wann.genome import Genome
    from wann.measures.assess import Assessment, assess

    root = Path(__file__).resolve().parents[1]
    for champ, keys in (
        ("swingup-paper", ["task", "episodes", "seed", "connections", "nodes", "search_values"]),
        ("wine", ["task", "metric", "episodes", "seed", "train_samples", "test_samples", "connections"]),
    ):
        g = Genome.load(root / f"experiments/results/{champ}/champion.json")
        a = assess(g, episodes=4)
        assert isinstance(a, Assessment)
        d = a.to_dict()
        assert list(d)[: len(keys)] == keys
        assert Assessment.from_dict(d) == a
        assert (a.metric == "accuracy") == (champ == "wine") and (a.ensemble_accuracy is not None) == (champ == "wine")


def test_a_table_of_edge_weights_gives_the_repeated_matrix_numbers(small_genomes):
    """forward(..., edge_weights (K, E), edge_rows (R,)) equals the (R, E) repeated matrix bit for
    bit, for rows of several genomes and vectors in any order; bad row indices are refused."""
    import pytest

    from wann.network import forward

    batch = compile_genomes(small_genomes[:3])
    rng = np.random.default_rng(4)
    E = max(len(g.connections) for g in small_genomes[:3])
    table = rng.normal(size=(5, max(1, E)))
    rg = np.array([0, 0, 1, 1, 1, 2, 0, 2, 2, 1], dtype=np.int64)
    er = np.array([3, 3, 0, 0, 4, 1, 2, 1, 1, 4], dtype=np.int64)
    obs = rng.normal(size=(len(rg), small_genomes[0].n_inputs))
    want = forward(batch, rg, obs, 0.0, table[er])
    assert np.array_equal(forward(batch, rg, obs, 0.0, table, er), want)
    with pytest.raises(ValueError, match="edge_rows must index"):
        forward(batch, rg, obs, 0.0, table, er + 5)
    with pytest.raises(ValueError, match="edge_rows must have shape"):
        forward(batch, rg, obs, 0.0, table, er[:3])
