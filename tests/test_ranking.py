import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wann.search.ranking import crowding_distance, nondominated_fronts, nsga_rank


def test_fronts_known_example():
    f = np.array([[1, 5], [2, 4], [3, 3], [1, 1], [2, 2], [0, 0]], dtype=float)
    fronts = [sorted(x.tolist()) for x in nondominated_fronts(f)]
    assert fronts == [[0, 1, 2], [4], [3], [5]]


def test_crowding_textbook():
    f = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])
    d = crowding_distance(f)
    assert np.isinf(d[0]) and np.isinf(d[3])
    # interior: (3-0)/4 + (4-1)/4 = 1.5 for point 1; (4-1)/4 + (3-0)/4 = 1.5 for point 2
    assert np.allclose(d[1:3], [1.5, 1.5])


def test_rank_prefers_front_then_crowding():
    f = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0], [0.5, 0.5], [1.5, 2.9]])
    order = nsga_rank(f)
    assert set(order[:5].tolist()) == {0, 1, 2, 3, 5}
    assert order[-1] == 4


@settings(max_examples=100, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 3)), elements=st.floats(-100, 100, allow_nan=False))
)
def test_rank_is_a_permutation_and_fronts_are_sound(f):
    order = nsga_rank(f)
    assert sorted(order.tolist()) == list(range(len(f)))
    fronts = nondominated_fronts(f)
    seen = np.concatenate(fronts)
    assert sorted(seen.tolist()) == list(range(len(f)))
    first = fronts[0]
    for i in first:  # nobody dominates a first-front point
        dom = (f >= f[i]).all(axis=1) & (f > f[i]).any(axis=1)
        assert not dom.any()
