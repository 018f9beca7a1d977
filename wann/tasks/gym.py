"""Any Gymnasium environment as a WANN task (`GymTask`).

Interface. Inputs: the environment's Box observation, flattened, as float64. Outputs: for a
``Discrete(n)`` action space, n outputs and the action is the argmax (ties go to the lowest
index; ``start`` is added); for a 1-D ``Box`` action space, one output per component, clipped to
the action bounds. NaN outputs count as 0. Other spaces (Dict, Tuple, images, Discrete
observations, MultiDiscrete actions ...) are refused with a `ConfigError` saying what is
supported.

Episodes. All rows of a `run_episodes` call advance in lockstep: each step is one batched
`wann.network.forward` over the rows still running, then every running environment steps. Row r's
environment is reset with ``seed=row_seed[r]``, so its return depends only on (genome, weight,
seed), never on the batch or the row's position in it. An episode ends when the environment
terminates or truncates, or after ``max_steps`` steps (default: the registration's
``max_episode_steps``).

Vectorisation choice.
- Generic path (every Gymnasium id): a pool of single environments kept on the task object,
  created lazily, reused across calls, and never pickled (``__getstate__`` drops it, so a task
  still travels to Ray actors). Gymnasium's own vector environments are not used: the
  numpy-vectorised classic-control ``*VectorEnv`` classes seed all sub-environments from one
  generator (a row's start state would depend on its position), and the Sync/Async wrappers
  around single environments add autoreset bookkeeping or process hops without saving the
  per-step Python cost.
- Classic control (CartPole-v1, Acrobot-v1, Pendulum-v1, MountainCarContinuous-v0, default
  options): numpy twins below (`CartPoleTwin`, ...) step all rows with a few array operations per
  step. They copy Gymnasium's equations, constants, observation dtypes and reset draws (the same
  ``np_random`` generator Gymnasium builds from ``reset(seed=...)``), and the tests step them
  against the real environments and compare every observation, reward and termination flag.
  ``vectorized = false`` in the task table turns them off.

BipedalWalker: ``no_fall_penalty = true`` reproduces the reference WANN variant, whose fall
step gives the ordinary shaped reward instead of Gymnasium's -100: on a step that terminates
because the hull touched the ground (or the walker left the start to the left), the reward is
recomputed from the environment's shaping terms exactly as on any other step.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numba import njit

from wann.errors import ConfigError
from wann.network import CompiledBatch, forward
from wann.tasks import Task

#: at most this many environments step together (bounds the pool's memory)
CHUNK = 512

#: input labels of well-known environments, for drawings
INPUT_NAMES: dict[str, tuple[str, ...]] = {
    "CartPole": ("x", "x_dot", "theta", "theta_dot"),
    "Acrobot": ("cos th1", "sin th1", "cos th2", "sin th2", "th1_dot", "th2_dot"),
    "Pendulum": ("cos th", "sin th", "th_dot"),
    "MountainCar": ("x", "x_dot"),
    "MountainCarContinuous": ("x", "x_dot"),
    "LunarLander": ("x", "y", "vx", "vy", "angle", "ang_vel", "leg1", "leg2"),
    "BipedalWalker": (
        ("hull_angle", "hull_ang_vel", "vel_x", "vel_y")
        + tuple(f"{p}{k}" for k in (1, 2) for p in ("hip_angle", "hip_speed", "knee_angle", "knee_speed", "contact"))
        + tuple(f"lidar{i}" for i in range(10))
    ),
}
INPUT_NAMES["BipedalWalkerHardcore"] = INPUT_NAMES["BipedalWalker"]

EXAMPLES = (
    "CartPole-v1",
    "Acrobot-v1",
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
    "LunarLander-v3",
    "BipedalWalker-v3",
)

SUPPORTED = (
    "a Gymnasium environment needs a 1-D Box observation (a flat vector of numbers) and a "
    "Discrete(n) action (n outputs, argmax) or a 1-D Box action (one output per component, clipped)"
)


def resolve_id(name: str) -> str | None:
    """The registered Gymnasium id for `name` (an unversioned name gets its highest version), or None."""
    if name in gym.registry:
        return name
    if re.search(r"-v\d+$", name):
        return None
    try:
        ns, base, _ = gym.envs.registration.parse_env_id(name)
        version = gym.envs.registration.find_highest_version(ns, base)
    except Exception:  # malformed ids
        return None
    if version is None:
        return None
    env_id = gym.envs.registration.get_env_id(ns, base, version)
    return env_id if env_id in gym.registry else None


def _check_spaces(env_id: str, obs_space, act_space) -> tuple[int, int, bool]:
    """(n_inputs, n_outputs, discrete) or ConfigError("task.name") naming what is supported."""
    if not isinstance(obs_space, spaces.Box):
        raise ConfigError(
            "task.name", f"{env_id} has a {type(obs_space).__name__} observation space ({obs_space}); {SUPPORTED}"
        )
    shape = obs_space.shape
    if len(shape) != 1:
        kind = "an image" if len(shape) >= 2 else "a scalar"
        raise ConfigError(
            "task.name",
            f"{env_id} observes {kind} (Box of shape {shape}); {SUPPORTED}. Flatten or encode the observation "
            "in a wrapper registered as a new id",
        )
    if isinstance(act_space, spaces.Discrete):
        return int(shape[0]), int(act_space.n), True
    if isinstance(act_space, spaces.Box) and len(act_space.shape) == 1:
        return int(shape[0]), int(act_space.shape[0]), False
    raise ConfigError("task.name", f"{env_id} has a {type(act_space).__name__} action space ({act_space}); {SUPPORTED}")


def _make_env(env_id: str, max_steps: int, env_kwargs: dict[str, Any]):
    return gym.make(env_id, max_episode_steps=max_steps, disable_env_checker=True, **env_kwargs)


def make_gym_task(name: str, **options: Any) -> GymTask:
    """A `GymTask` for the Gymnasium id `name` (KeyError when it is not registered; ConfigError
    for bad options or unsupported spaces)."""
    env_id = resolve_id(name)
    if env_id is None:
        raise KeyError(name)
    opts = dict(options)
    max_steps = opts.pop("max_steps", None)
    env_kwargs = opts.pop("env_kwargs", {})
    no_fall_penalty = opts.pop("no_fall_penalty", False)
    vectorized = opts.pop("vectorized", True)
    if opts:
        known = ["max_steps", "env_kwargs", "no_fall_penalty", "vectorized"]
        bad = sorted(opts)[0]
        close = difflib.get_close_matches(bad, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(f"task.{bad}", f"unknown option for {env_id}; {hint}known options: {', '.join(known)}")
    if not isinstance(env_kwargs, dict):
        raise ConfigError("task.env_kwargs", f"must be a table of keyword arguments for gym.make, got {env_kwargs!r}")
    if not isinstance(no_fall_penalty, bool):
        raise ConfigError("task.no_fall_penalty", f"must be true or false, got {no_fall_penalty!r}")
    if not isinstance(vectorized, bool):
        raise ConfigError("task.vectorized", f"must be true or false, got {vectorized!r}")
    spec = gym.registry[env_id]
    if no_fall_penalty and not spec.name.startswith("BipedalWalker"):
        raise ConfigError("task.no_fall_penalty", f"only applies to BipedalWalker environments, not {env_id}")
    if max_steps is None:
        max_steps = spec.max_episode_steps
        if max_steps is None:
            raise ConfigError("task.max_steps", f"{env_id} has no registered episode limit; set max_steps")
    elif not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise ConfigError("task.max_steps", f"must be a positive integer, got {max_steps!r}")
    try:
        env = _make_env(env_id, max_steps, env_kwargs)
    except TypeError as e:
        raise ConfigError("task.env_kwargs", f"{env_id} rejected them: {e}") from None
    except Exception as e:  # missing optional dependency (MuJoCo, Atari ...), bad arguments
        raise ConfigError("task.name", f"cannot create {env_id}: {type(e).__name__}: {e}") from None
    try:
        n_in, n_out, discrete = _check_spaces(env_id, env.observation_space, env.action_space)
        act = env.action_space
        if discrete:
            low = np.array([float(act.start)])
            high = np.array([float(act.start + act.n - 1)])
            act_dtype = np.dtype(np.int64)
        else:
            low = np.asarray(act.low, dtype=np.float64)
            high = np.asarray(act.high, dtype=np.float64)
            act_dtype = np.dtype(act.dtype)
    finally:
        env.close()
    twin = TWINS.get(env_id) if vectorized and not env_kwargs else None
    return GymTask(
        env_id,
        n_in,
        n_out,
        max_steps,
        dict(options),
        input_names=INPUT_NAMES.get(spec.name, ()),
        env_id=env_id,
        env_kwargs=dict(env_kwargs),
        discrete=discrete,
        action_low=low,
        action_high=high,
        action_dtype=act_dtype.str,
        no_fall_penalty=no_fall_penalty,
        twin=twin.__name__ if twin else "",
    )


@dataclass(eq=False)
class GymTask(Task):
    """A Gymnasium environment (see the module docstring). `name` is the versioned env id; the
    spec records it with the options given (e.g. ``{"name": "BipedalWalker-v3",
    "no_fall_penalty": True}``)."""

    env_id: str = ""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    discrete: bool = True
    action_low: np.ndarray = field(default_factory=lambda: np.zeros(1))
    action_high: np.ndarray = field(default_factory=lambda: np.zeros(1))
    action_dtype: str = "<i8"
    no_fall_penalty: bool = False
    #: name of the numpy twin class in use ("" = the pool of Gymnasium environments)
    twin: str = ""

    # ---- pool (never pickled) ---------------------------------------------------------------

    def _pool(self, n: int) -> list:
        pool = self.__dict__.setdefault("_env_pool", [])
        while len(pool) < n:
            pool.append(_make_env(self.env_id, self.max_steps, self.env_kwargs))
        return pool[:n]

    def close(self) -> None:
        for env in self.__dict__.pop("_env_pool", []):
            env.close()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_env_pool", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ---- actions ----------------------------------------------------------------------------

    def actions(self, out: np.ndarray) -> np.ndarray:
        """Network outputs (N, n_outputs) -> actions: (N,) ints for Discrete, (N, n) for Box."""
        out = np.nan_to_num(out, nan=0.0)
        if self.discrete:
            return np.argmax(out, axis=1) + int(self.action_low[0])
        return np.clip(out, self.action_low, self.action_high).astype(self.action_dtype)

    # ---- episodes ---------------------------------------------------------------------------

    def run_episodes(
        self,
        batch: CompiledBatch,
        row_genome: np.ndarray,
        row_weight: np.ndarray,
        row_seed: np.ndarray,
        row_edge_weights: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        row_genome, row_weight, row_seed = self.episode_rows(row_genome, row_weight, row_seed)
        R = row_genome.shape[0]
        ew = None if row_edge_weights is None else np.asarray(row_edge_weights, dtype=np.float64)
        ret = np.zeros(R)
        steps = np.zeros(R, dtype=np.int64)
        chunk = R if self.twin else CHUNK
        for a in range(0, R, chunk):
            b = min(R, a + chunk)
            run = self._chunk_twin if self.twin else self._chunk_envs
            ret[a:b], steps[a:b] = run(
                batch, row_genome[a:b], row_weight[a:b], row_seed[a:b], None if ew is None else ew[a:b]
            )
        return ret, steps

    def _chunk_envs(self, batch, rg, w, seeds, ew):
        n = len(rg)
        envs = self._pool(n)
        obs = np.stack([np.asarray(e.reset(seed=int(s))[0], dtype=np.float64).reshape(-1) for e, s in zip(envs, seeds)])
        ret = np.zeros(n)
        steps = np.zeros(n, dtype=np.int64)
        alive = np.arange(n)
        biped = self.no_fall_penalty
        for _t in range(self.max_steps):
            if alive.size == 0:
                break
            out = forward(batch, rg[alive], obs[alive], w[alive], None if ew is None else ew[alive])
            acts = self.actions(out)
            done = np.zeros(alive.size, dtype=bool)
            for k, i in enumerate(alive):
                env = envs[i]
                a = int(acts[k]) if self.discrete else acts[k]
                if biped:
                    prev = env.unwrapped.prev_shaping
                o, r, term, trunc, _ = env.step(a)
                if biped and term:
                    r = _biped_reward_without_fall_penalty(env.unwrapped, prev, a, r)
                obs[i] = np.asarray(o, dtype=np.float64).reshape(-1)
                ret[i] += float(r)
                steps[i] += 1
                done[k] = term or trunc
            alive = alive[~done]
        return ret, steps

    def _chunk_twin(self, batch, rg, w, seeds, ew):
        n = len(rg)
        sim = TWINS[self.env_id]()
        obs = sim.reset(seeds)
        ret = np.zeros(n)
        steps = np.zeros(n, dtype=np.int64)
        alive = np.arange(n)
        for _t in range(self.max_steps):
            if alive.size == 0:
                break
            out = forward(batch, rg[alive], obs, w[alive], None if ew is None else ew[alive])
            obs, r, term = sim.step(self.actions(out))
            ret[alive] += r
            steps[alive] += 1
            if term.any():
                keep = ~term
                alive = alive[keep]
                obs = obs[keep]
                sim.keep(keep)
        return ret, steps


def _biped_reward_without_fall_penalty(env, prev_shaping, action, reward: float) -> float:
    """The reference variant's reward on a terminating BipedalWalker step: the shaped reward that
    Gymnasium replaced by -100 when the hull touched the ground (or x < 0)."""
    if not (env.game_over or env.hull.position[0] < 0):
        return reward  # reached the end of the course: Gymnasium's reward is already the shaped one
    return biped_shaped_reward(env, prev_shaping, action)


def biped_shaped_reward(env, prev_shaping, action) -> float:
    """BipedalWalker's per-step reward without the fall penalty, from the environment after the
    step (`env.prev_shaping` holds this step's shaping) and the shaping before it."""
    from gymnasium.envs.box2d.bipedal_walker import MOTORS_TORQUE

    r = 0 if prev_shaping is None else env.prev_shaping - prev_shaping
    for a in action:
        r -= 0.00035 * MOTORS_TORQUE * np.clip(np.abs(a), 0, 1)
    return r


class _Twin:
    state: np.ndarray

    def keep(self, mask: np.ndarray) -> None:
        self.state = self.state[mask]


TWINS: dict[str, type] = {}


def _twin(env_id: str):
    def register(cls):
        TWINS[env_id] = cls
        return cls

    return register


@_twin("CartPole-v1")
class CartPoleTwin(_Twin):
    """Gymnasium's CartPole-v1 (Euler integrator, reward 1 on every step including the last)."""

    GRAVITY, MASS_POLE, TOTAL_MASS, LENGTH = 9.8, 0.1, 0.1 + 1.0, 0.5
    POLE_MASS_LENGTH = 0.1 * 0.5
    FORCE, TAU, X_LIMIT, THETA_LIMIT = 10.0, 0.02, 2.4, 12 * 2 * math.pi / 360

    def reset(self, seeds) -> np.ndarray:
        self.state = _starts(seeds, lambda rng: rng.uniform(low=-0.05, high=0.05, size=(4,)))
        return self.state.astype(np.float32).astype(np.float64)

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(np.asarray(action) == 1, self.FORCE, -self.FORCE)
        cos, sin = np.cos(theta), np.sin(theta)
        temp = (force + self.POLE_MASS_LENGTH * np.square(theta_dot) * sin) / self.TOTAL_MASS
        theta_acc = (self.GRAVITY * sin - cos * temp) / (
            self.LENGTH * (4.0 / 3.0 - self.MASS_POLE * np.square(cos) / self.TOTAL_MASS)
        )
        x_acc = temp - self.POLE_MASS_LENGTH * theta_acc * cos / self.TOTAL_MASS
        x = x + self.TAU * x_dot
        x_dot = x_dot + self.TAU * x_acc
        theta = theta + self.TAU * theta_dot
        theta_dot = theta_dot + self.TAU * theta_acc
        self.state = np.stack([x, x_dot, theta, theta_dot], axis=1)
        term = (x < -self.X_LIMIT) | (x > self.X_LIMIT) | (theta < -self.THETA_LIMIT) | (theta > self.THETA_LIMIT)
        return self.state.astype(np.float32).astype(np.float64), np.ones(len(x)), term


@_twin("Acrobot-v1")
class AcrobotTwin(_Twin):
    """Gymnasium's Acrobot-v1 ("book" dynamics, one RK4 step of dt = 0.2, no torque noise)."""

    DT = 0.2
    M1 = M2 = 1.0
    L1 = 1.0
    LC1 = LC2 = 0.5
    I1 = I2 = 1.0
    G = 9.8
    MAX_VEL_1, MAX_VEL_2 = 4 * math.pi, 9 * math.pi
    TORQUE = np.array([-1.0, 0.0, 1.0])

    def reset(self, seeds) -> np.ndarray:
        s = _starts(seeds, lambda rng: rng.uniform(low=-0.1, high=0.1, size=(4,)).astype(np.float32))
        self.state = s.astype(np.float32)  # Gymnasium keeps the reset state in float32 (observed so)
        return self._obs()

    def _obs(self):
        t1, t2, d1, d2 = self.state.T
        return np.stack([np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2), d1, d2], 1).astype(np.float32).astype(float)

    def _derivs(self, y):
        m1, m2, l1, lc1, lc2, I1, I2, g = self.M1, self.M2, self.L1, self.LC1, self.LC2, self.I1, self.I2, self.G
        pi = math.pi
        theta1, theta2, dtheta1, dtheta2, a = y.T
        d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * np.cos(theta2)) + I1 + I2
        d2 = m2 * (lc2**2 + l1 * lc2 * np.cos(theta2)) + I2
        phi2 = m2 * lc2 * g * np.cos(theta1 + theta2 - pi / 2.0)
        phi1 = (
            -m2 * l1 * lc2 * _pow(dtheta2) * np.sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * np.sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * np.cos(theta1 - pi / 2)
            + phi2
        )
        dd2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * _pow(dtheta1) * np.sin(theta2) - phi2) / (
            m2 * lc2**2 + I2 - _pow(d2) / d1
        )
        dd1 = -(d2 * dd2 + phi1) / d1
        return np.stack([dtheta1, dtheta2, dd1, dd2, np.zeros_like(a)], axis=1)

    def step(self, action):
        y0 = np.concatenate([self.state.astype(np.float64), self.TORQUE[np.asarray(action)][:, None]], axis=1)
        dt = self.DT - 0
        dt2 = dt / 2.0
        k1 = self._derivs(y0)
        k2 = self._derivs(y0 + dt2 * k1)
        k3 = self._derivs(y0 + dt2 * k2)
        k4 = self._derivs(y0 + dt * k3)
        ns = (y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4))[:, :4]
        for j in (0, 1):  # wrap angles into [-pi, pi]
            x = ns[:, j]
            while (x > math.pi).any():
                x = np.where(x > math.pi, x - 2 * math.pi, x)
            while (x < -math.pi).any():
                x = np.where(x < -math.pi, x + 2 * math.pi, x)
            ns[:, j] = x
        ns[:, 2] = np.minimum(np.maximum(ns[:, 2], -self.MAX_VEL_1), self.MAX_VEL_1)
        ns[:, 3] = np.minimum(np.maximum(ns[:, 3], -self.MAX_VEL_2), self.MAX_VEL_2)
        self.state = ns
        term = -np.cos(ns[:, 0]) - np.cos(ns[:, 1] + ns[:, 0]) > 1.0
        return self._obs(), np.where(term, 0.0, -1.0), term


@_twin("Pendulum-v1")
class PendulumTwin(_Twin):
    """Gymnasium's Pendulum-v1 (g = 10; never terminates, truncated by the step limit)."""

    MAX_SPEED, MAX_TORQUE, DT, G, M, L = 8, 2.0, 0.05, 10.0, 1.0, 1.0

    def reset(self, seeds) -> np.ndarray:
        high = np.array([np.pi, 1.0])
        self.state = _starts(seeds, lambda rng: rng.uniform(low=-high, high=high))
        return self._obs()

    def _obs(self):
        th, thdot = self.state.T
        return np.stack([np.cos(th), np.sin(th), thdot], axis=1).astype(np.float32).astype(np.float64)

    def step(self, action):
        th, thdot = self.state.T
        g, m, l, dt = self.G, self.M, self.L, self.DT
        u = np.clip(np.asarray(action), -self.MAX_TORQUE, self.MAX_TORQUE)[:, 0]
        norm = ((th + np.pi) % (2 * np.pi)) - np.pi
        costs = _pow(norm) + 0.1 * _pow(thdot) + 0.001 * _pow(u)
        newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = np.clip(newthdot, -self.MAX_SPEED, self.MAX_SPEED)
        newth = th + newthdot * dt
        self.state = np.stack([newth, newthdot], axis=1)
        return self._obs(), -costs, np.zeros(len(th), dtype=bool)


@_twin("MountainCarContinuous-v0")
class MountainCarContinuousTwin(_Twin):
    """Gymnasium's MountainCarContinuous-v0, including its float32 arithmetic after the first
    step. Actions must lie in [-1, 1] (the task clips them)."""

    POWER, MAX_SPEED, MIN_POS, MAX_POS, GOAL_POS, GOAL_VEL = 0.0015, 0.07, -1.2, 0.6, 0.45, 0

    def reset(self, seeds) -> np.ndarray:
        pos = _starts(seeds, lambda rng: np.array([rng.uniform(low=-0.6, high=-0.4)]))
        self.state = np.concatenate([pos, np.zeros_like(pos)], axis=1)  # float64 until the first step
        return self.state.astype(np.float32).astype(np.float64)

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=np.float32)[:, 0], np.float32(-1.0), np.float32(1.0))
        pos, vel = self.state[:, 0], self.state[:, 1]
        cos = np.array([math.cos(v) for v in (3 * pos).tolist()])
        # Gymnasium adds a float32 (force * power) to a Python float: the float is rounded to float32
        vel = vel + (a * self.POWER - (0.0025 * cos).astype(np.float32))
        vel = np.where(vel > self.MAX_SPEED, self.MAX_SPEED, vel).astype(vel.dtype)
        vel = np.where(vel < -self.MAX_SPEED, -self.MAX_SPEED, vel).astype(vel.dtype)
        pos = pos + vel
        pos = np.where(pos > self.MAX_POS, self.MAX_POS, pos).astype(pos.dtype)
        pos = np.where(pos < self.MIN_POS, self.MIN_POS, pos).astype(pos.dtype)
        vel = np.where((pos == self.MIN_POS) & (vel < 0), 0, vel).astype(vel.dtype)
        term = (pos >= self.GOAL_POS) & (vel >= self.GOAL_VEL)
        reward = np.where(term, 100.0, 0.0) - _pow(a.astype(np.float64)) * 0.1
        self.state = np.stack([pos, vel], axis=1).astype(np.float32)
        return self.state.astype(np.float64), reward, term


@njit(cache=True)
def _pow_loop(x, e):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] ** e
    return out


def _pow(x: np.ndarray, e: float = 2.0) -> np.ndarray:
    """``x ** e`` element by element through the C library's pow/powf, as numpy computes it for a
    single scalar (Gymnasium's environments square numpy scalars with ``**``; the array form
    ``x ** 2`` is an exact multiplication and can differ in the last bit). The exponent is a
    runtime argument so the compiler cannot turn it into a multiplication."""
    x = np.ascontiguousarray(x)
    return _pow_loop(x, x.dtype.type(e))


def _starts(seeds, draw) -> np.ndarray:
    """Per seed: ``draw(np_random)`` with the generator Gymnasium builds in ``reset(seed=s)``;
    repeated seeds are drawn once. Returns (len(seeds), k) float64."""
    uniq, inverse = np.unique(np.asarray(seeds, dtype=np.int64), return_inverse=True)
    table = np.stack([np.asarray(draw(gym.utils.seeding.np_random(int(s))[0])).reshape(-1) for s in uniq])
    return table[inverse.reshape(-1)].astype(np.float64)
