import math
import pickle
import tomllib
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from helpers import genome_from_edges, mutated_population

from wann.errors import ConfigError
from wann.evaluate import evaluate
from wann.network import compile_genomes
from wann.search.experiment import experiment_from_dict, load_experiment
from wann.tasks import SwingUpTask, make_task, task_from_spec, twins
from wann.tasks import gym as gym_tasks
from wann.tasks.gym import GymTask

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]


# ---- tiny custom environments ------------------------------------------------------------------


class _TinyEnv(gymnasium.Env):
    """Box(3) observation; the reward of a step is the action taken (so returns show the mapping)."""

    def __init__(self, action_space=None, observation_space=None):
        self.observation_space = observation_space or spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
        self.action_space = action_space or spaces.Discrete(3, start=-1)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.uniform(-1, 1, 3).astype(np.float32), {}

    def step(self, action):
        self.t += 1
        r = float(np.sum(action))
        return self.np_random.uniform(-1, 1, 3).astype(np.float32), r, False, self.t >= 4, {}


def _register(env_id, **kwargs):
    if env_id not in gymnasium.registry:
        gymnasium.register(id=env_id, entry_point=lambda **kw: _TinyEnv(**kwargs, **kw), max_episode_steps=4)


_register("wann-test/TinyDiscrete-v0")
_register("wann-test/TinyBox-v0", action_space=spaces.Box(-0.5, 2.0, shape=(2,), dtype=np.float32))
_register("wann-test/DictObs-v0", observation_space=spaces.Dict({"a": spaces.Box(-1, 1, (2,))}))
_register("wann-test/ImageObs-v0", observation_space=spaces.Box(0, 255, (8, 8, 3), dtype=np.uint8))
_register("wann-test/MultiDiscreteAct-v0", action_space=spaces.MultiDiscrete([2, 3]))
_register("wann-test/DiscreteObs-v0", observation_space=spaces.Discrete(5))


def _genome(n_in, n_out, edges, acts=None):
    return genome_from_edges(n_in, n_out, edges, acts)


def _population(task, n, seed=0):
    return mutated_population(task, n, seed, 0.5, lambda k: 3 * (k % 6))


# ---- resolving names ---------------------------------------------------------------------------


def test_make_task_resolves_every_kind():
    assert isinstance(make_task("swingup"), SwingUpTask)
    t = make_task("CartPole-v1")
    assert isinstance(t, GymTask) and (t.n_inputs, t.n_outputs, t.max_steps) == (4, 2, 500) and t.discrete
    assert t.kind == "rl" and t.spec() == {"name": "CartPole-v1"}
    p = make_task("Pendulum-v1")
    assert (p.n_inputs, p.n_outputs, p.discrete) == (3, 1, False)
    # an unversioned name gets the highest registered version, and the spec records it
    assert make_task("CartPole").spec() == {"name": "CartPole-v1"}
    assert task_from_spec(make_task("Acrobot-v1", max_steps=50).spec()).max_steps == 50


def test_unknown_id_suggests_and_lists():
    with pytest.raises(ConfigError) as e:
        make_task("CartPole-v9")
    assert e.value.field == "task.name"
    msg = e.value.message
    assert "Did you mean" in msg and "'CartPole-v1'" in msg
    assert "digits" in msg and "BipedalWalker-v3" in msg and "swingup" in msg
    assert len(msg) < 800  # a short list, not the whole registry
    with pytest.raises(ConfigError, match="'CartPole-v1'"):
        make_task("cartpole-v1")


@pytest.mark.parametrize(
    "env_id,words",
    [
        ("wann-test/DictObs-v0", ["Dict", "1-D Box"]),
        ("wann-test/ImageObs-v0", ["image", "1-D Box"]),
        ("wann-test/DiscreteObs-v0", ["Discrete observation", "1-D Box"]),
        ("wann-test/MultiDiscreteAct-v0", ["MultiDiscrete", "Discrete(n)"]),
    ],
)
def test_unsupported_spaces_are_config_errors(env_id, words):
    with pytest.raises(ConfigError) as e:
        make_task(env_id)
    assert e.value.field == "task.name"
    for w in words:
        assert w in e.value.message


def test_bad_options():
    with pytest.raises(ConfigError, match="max_steps"):
        make_task("CartPole-v1", max_steps=0)
    with pytest.raises(ConfigError, match="env_kwargs"):
        make_task("CartPole-v1", env_kwargs=3)
    with pytest.raises(ConfigError, match="env_kwargs"):
        make_task("CartPole-v1", env_kwargs={"no_such_argument": 1})
    with pytest.raises(ConfigError) as e:
        make_task("CartPole-v1", max_step=10)
    assert e.value.field == "task.max_step" and "max_steps" in e.value.message
    with pytest.raises(ConfigError, match="BipedalWalker"):
        make_task("CartPole-v1", no_fall_penalty=True)


def test_env_kwargs_pass_through_experiment_and_toml():
    exp = experiment_from_dict(
        {"task": {"name": "LunarLander-v3", "env_kwargs": {"continuous": True}}, "search": {"population": 8}}
    )
    t = task_from_spec(exp.task)
    assert (t.n_inputs, t.n_outputs, t.discrete) == (8, 2, False)
    again = experiment_from_dict(tomllib.loads(exp.to_toml()))
    assert again.task == {"name": "LunarLander-v3", "env_kwargs": {"continuous": True}}
    assert t.spec() == {"name": "LunarLander-v3", "env_kwargs": {"continuous": True}}


# ---- action mapping ----------------------------------------------------------------------------


def test_discrete_action_is_argmax_lowest_on_ties_plus_start():
    t = make_task("wann-test/TinyDiscrete-v0")
    assert (t.n_inputs, t.n_outputs) == (3, 3)
    out = np.array([[0.1, 0.5, 0.2], [0.7, 0.7, 0.7], [0.0, 0.3, 0.3], [np.nan, -1.0, -2.0]])
    assert t.actions(out).tolist() == [0, -1, 0, -1]  # start = -1; NaN counts as 0
    # end to end: output k = bias * w for k = 2 only -> action +1 every step, reward 1 per step
    g = _genome(3, 3, [(0, 6)])
    r, s = t.run_episodes(compile_genomes([g]), np.zeros(2, np.int64), np.array([1.0, -1.0]), np.array([1, 2]))
    assert s.tolist() == [4, 4]
    assert r.tolist() == [4.0, -4.0]  # w = -1 makes output 2 the smallest: argmax of (0, 0, -1) = index 0 -> -1


def test_box_action_clipped_to_bounds():
    t = make_task("wann-test/TinyBox-v0")
    assert (t.n_outputs, t.discrete) == (2, False)
    a = t.actions(np.array([[5.0, -5.0], [0.25, 1.0], [np.nan, 3.0]]))
    assert a.dtype == np.float32
    assert a.tolist() == [[2.0, -0.5], [0.25, 1.0], [0.0, 2.0]]
    p = make_task("Pendulum-v1")
    assert p.actions(np.array([[9.0], [-9.0], [0.5]])).ravel().tolist() == [2.0, -2.0, 0.5]
    # end to end: both outputs = 3 * bias -> clipped to 2, reward 4 per step, 4 steps
    g = _genome(3, 2, [(0, 4), (0, 5)])
    r, s = t.run_episodes(compile_genomes([g]), np.zeros(1, np.int64), np.array([3.0]), np.array([0]))
    assert r.tolist() == [16.0] and s.tolist() == [4]


# ---- the numpy twins against Gymnasium -------------------------------------------------------


@pytest.mark.parametrize("env_id", sorted(twins.TWINS))
def test_twin_matches_gymnasium_step_by_step(env_id):
    task = make_task(env_id)
    n = 8
    seeds = np.arange(100, 100 + n)
    twin = twins.TWINS[env_id]()
    obs = twin.reset(seeds)
    envs = [gymnasium.make(env_id) for _ in range(n)]
    ref = np.stack([np.asarray(e.reset(seed=int(s))[0], dtype=np.float64) for e, s in zip(envs, seeds)])
    assert np.array_equal(obs, ref)
    rng = np.random.default_rng(0)
    alive = np.arange(n)
    checked = 0
    for _ in range(task.max_steps):
        if alive.size == 0:
            break
        acts = task.actions(rng.normal(size=(alive.size, task.n_outputs)) * 1.5)
        obs, rew, term = twin.step(acts)
        for k, i in enumerate(alive):
            o, r, te, _, _ = envs[i].step(int(acts[k]) if task.discrete else acts[k])
            state = np.asarray(envs[i].unwrapped.state)
            assert np.array_equal(np.asarray(o, dtype=np.float64), obs[k])
            assert r == rew[k] and te == term[k]
            assert np.array_equal(state, twin.state[k]) and state.dtype == twin.state.dtype  # internal state too
            checked += 1
        alive = alive[~term]
        twin.keep(~term)
    assert checked > 100


@pytest.mark.parametrize("env_id", sorted(twins.TWINS))
def test_twin_and_environment_pool_give_identical_episodes(env_id):
    vec = make_task(env_id, max_steps=150)
    pool = make_task(env_id, max_steps=150, vectorized=False)
    assert vec.twin and not pool.twin
    gs = _population(vec, 4)
    a = evaluate(vec, gs, WEIGHTS, [7])
    b = evaluate(pool, gs, WEIGHTS, [7])
    assert np.array_equal(a.rewards, b.rewards) and np.array_equal(a.steps, b.steps)


# ---- determinism ---------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id,max_steps", [("CartPole-v1", 500), ("LunarLander-v3", 60)])
def test_rewards_do_not_depend_on_the_batch(env_id, max_steps):
    task = make_task(env_id, max_steps=max_steps)
    gs = _population(task, 6, seed=1)
    seeds = [11, 12]
    whole = evaluate(task, gs, WEIGHTS, seeds)
    again = evaluate(task, gs, WEIGHTS, seeds)  # the pool is reused: same numbers
    assert np.array_equal(whole.rewards, again.rewards)
    for k in (0, 3, 5):
        alone = evaluate(task, [gs[k]], WEIGHTS, seeds)
        assert np.array_equal(alone.rewards[0], whole.rewards[k])
        assert np.array_equal(alone.steps[0], whole.steps[k])
    rev = evaluate(task, gs[::-1], WEIGHTS, seeds)
    assert np.array_equal(rev.rewards[::-1], whole.rewards)
    # a fresh task (as in another worker), rebuilt from the pickled one, agrees too
    clone = pickle.loads(pickle.dumps(task))
    assert "_env_pool" in task.__dict__ or task.twin  # the twin path needs no environments
    assert "_env_pool" not in clone.__dict__
    assert np.array_equal(evaluate(clone, gs, WEIGHTS, seeds).rewards, whole.rewards)


def test_individual_edge_weights_equal_to_shared_weight():
    task = make_task("LunarLander-v3", max_steps=40)
    gs = _population(task, 3, seed=2)
    b = compile_genomes(gs)
    rg = np.repeat(np.arange(3), 2)
    w = np.tile([0.5, -1.0], 3)
    seeds = np.tile([3, 4], 3)
    ew = np.zeros((6, int(np.diff(b.edge_ptr).max())))
    for r in range(6):
        n = b.edge_ptr[rg[r] + 1] - b.edge_ptr[rg[r]]
        ew[r, :n] = w[r]
    r1, s1 = task.run_episodes(b, rg, w, seeds)
    r2, s2 = task.run_episodes(b, rg, np.zeros(6), seeds, ew)
    assert np.allclose(r1, r2) and np.array_equal(s1, s2)


# ---- BipedalWalker ------------------------------------------------------------------------------


def test_biped_variant_recorded_in_spec():
    t = make_task("BipedalWalker-v3", no_fall_penalty=True)
    assert t.spec() == {"name": "BipedalWalker-v3", "no_fall_penalty": True}
    assert (t.n_inputs, t.n_outputs, t.max_steps, t.discrete) == (24, 4, 1600, False)
    assert make_task("BipedalWalker", no_fall_penalty=True).spec()["name"] == "BipedalWalker-v3"
    assert make_task("BipedalWalker-v3").spec() == {"name": "BipedalWalker-v3"}
    exp = load_experiment(ROOT / "experiments" / "bipedal.toml")
    assert task_from_spec(exp.task).spec() == {"name": "BipedalWalker-v3", "no_fall_penalty": True}


def test_biped_shaped_reward_formula_and_fall_step():
    env = gymnasium.make("BipedalWalker-v3")
    env.reset(seed=3)
    a = np.ones(4, dtype=np.float32)
    for _ in range(1600):
        prev = env.unwrapped.prev_shaping
        _, r, term, trunc, _ = env.step(a)
        shaped = gym_tasks.biped_shaped_reward(env.unwrapped, prev, a)
        if term:
            assert r == -100 and env.unwrapped.game_over
            assert abs(shaped) < 5  # the reference's reward for the fall step: no penalty
            break
        assert shaped == r  # on ordinary steps the formula is Gymnasium's reward exactly
    else:
        pytest.fail("the walker never fell")


def test_biped_no_fall_penalty_adds_the_penalty_back():
    # constant full-torque outputs (bias -> every output, linear) make the walker fall early
    g = _genome(24, 4, [(0, 25), (0, 26), (0, 27), (0, 28)])
    b = compile_genomes([g])
    args = (b, np.zeros(1, np.int64), np.array([2.0]), np.array([3]))
    r_std, s_std = make_task("BipedalWalker-v3", max_steps=400).run_episodes(*args)
    r_ref, s_ref = make_task("BipedalWalker-v3", max_steps=400, no_fall_penalty=True).run_episodes(*args)
    assert s_std[0] == s_ref[0] < 400  # it fell
    assert 95 < r_ref[0] - r_std[0] < 105  # -100 replaced by the step's small shaped reward


# ---- shipped experiment files -------------------------------------------------------------------

RL_FILES = ["cartpole", "acrobot", "pendulum", "mountaincar", "lunarlander", "bipedal"]


def smoke_copy(name: str, tmp_path: Path, max_steps: int | None = None) -> Path:
    """A copy of experiments/NAME.toml with population 16 (and, for slow environments, shorter
    episodes)."""
    data = tomllib.loads((ROOT / "experiments" / f"{name}.toml").read_text())
    data["search"]["population"] = 16
    if max_steps:
        data["task"]["max_steps"] = max_steps
    exp = experiment_from_dict(data)
    p = tmp_path / f"{name}.toml"
    p.write_text(exp.to_toml())
    return p


@pytest.mark.parametrize("name", RL_FILES)
def test_experiment_file_runs_two_generations(name, tmp_path, capsys):
    from wann.cli import main

    exp = load_experiment(ROOT / "experiments" / f"{name}.toml")
    assert exp.execution.executor == "ray"
    assert "minutes" in (ROOT / "experiments" / f"{name}.toml").read_text()
    slow_env = name in ("lunarlander", "bipedal")
    path = smoke_copy(name, tmp_path, max_steps=100 if slow_env else None)
    out = tmp_path / "run"
    rc = main(["search", str(path), "--generations", "2", "--executor", "serial", "--out", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    assert len((out / "metrics.csv").read_text().splitlines()) == 3
    champion = (out / "champion.json").read_text()
    assert exp.task["name"] in champion
    rows = (out / "metrics.csv").read_text().splitlines()
    assert all(not math.isnan(float(r.split(",")[2])) for r in rows[1:])
