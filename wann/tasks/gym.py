"""Any Gymnasium environment as a WANN task (`GymTask`).

Names: a registered id (``CartPole-v1``; an unversioned name gets its highest version), or
Gymnasium's ``module:Env-v0`` form, which imports ``module`` first (its import registers
``Env-v0``); the task's name keeps the module, so every process that rebuilds the task imports it.

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
- Classic control (CartPole-v1, Acrobot-v1, Pendulum-v1, MountainCar-v0,
  MountainCarContinuous-v0; no ``env_kwargs``): by default the fused numba kernel of
  `wann.tasks.control` runs the network and the environment's equations for all episodes of a
  genome in one compiled loop (``kernel = "fused"``). ``kernel = "numpy"`` steps the numpy twins
  of `wann.tasks.twins` (`CartPoleTwin`, ...) from Python instead, all rows with a few array
  operations per step (the plain path benchmarks compare against). Both copy Gymnasium's
  equations, constants, observation dtypes and reset draws (the same ``np_random`` generator
  Gymnasium builds from ``reset(seed=...)``), and the tests step them against the real
  environments and compare every observation, reward, termination flag, return and step count.
  ``vectorized = false`` in the task table turns both off (the pool of real environments); the
  ``kernel`` option applies only to these five ids with ``vectorized = true`` and no
  ``env_kwargs`` (anything else is a `ConfigError` naming ``task.kernel``).

BipedalWalker: ``no_fall_penalty = true`` reproduces the reference WANN variant, whose fall
step gives the ordinary shaped reward instead of Gymnasium's -100: on a step that terminates
because the hull touched the ground (or the walker left the start to the left), the reward is
recomputed from the environment's shaping terms exactly as on any other step.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from wann.errors import ConfigError
from wann.network import CompiledBatch, forward
from wann.tasks import control
from wann.tasks.base import Task, import_modules
from wann.tasks.twins import TWINS

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


def split_module(name: str) -> tuple[str, str]:
    """Gymnasium's ``module:Env-v0`` form: import ``module`` (it registers ``Env-v0``) and return
    (module, the id after the colon); ("", name) for a plain id. ConfigError("task.name") when
    the module cannot be imported."""
    if ":" not in name:
        return "", name
    module, _, env = name.partition(":")
    if not module or not env or ":" in env:
        raise ConfigError("task.name", f"{name!r}: the module form is 'module:Env-v0' (one colon, both parts given)")
    import_modules([module], "task.name")
    return module, env


def make_gym_task(name: str, **options: Any) -> GymTask:
    """A `GymTask` for the Gymnasium id `name`, or ``module:id`` (KeyError when it is not
    registered; ConfigError for bad options, unsupported spaces or a module that cannot be
    imported). The task's name (and spec) keeps the ``module:`` part, so the module is imported
    again wherever the task is rebuilt."""
    module, env_name = split_module(name)
    env_id = resolve_id(env_name)
    if env_id is None:
        if module:
            raise ConfigError(
                "task.name",
                f"importing {module!r} registered no Gymnasium environment {env_name!r}; the module must call "
                f"gymnasium.register(id={env_name!r}, ...) when it is imported",
            )
        raise KeyError(name)
    opts = dict(options)
    max_steps = opts.pop("max_steps", None)
    env_kwargs = opts.pop("env_kwargs", {})
    no_fall_penalty = opts.pop("no_fall_penalty", False)
    vectorized = opts.pop("vectorized", True)
    kernel = opts.pop("kernel", None)
    if opts:
        known = ["max_steps", "env_kwargs", "no_fall_penalty", "vectorized", "kernel"]
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
    kernel = _kernel(env_id, kernel, twin is not None)
    return GymTask(
        f"{module}:{env_id}" if module else env_id,
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
        kernel=kernel,
    )


def _kernel(env_id: str, kernel: Any, has_twin: bool) -> str:
    """The episode path: "fused", "numpy" or "" (the pool of real environments)."""
    if kernel is None:
        return ("fused" if env_id in control.FUSED else "numpy") if has_twin else ""
    if kernel not in ("fused", "numpy"):
        raise ConfigError(
            "task.kernel",
            f'must be "fused" (compiled kernel) or "numpy" (numpy twin stepped from Python), got {kernel!r}',
        )
    if not has_twin:
        raise ConfigError(
            "task.kernel",
            f"applies only to {', '.join(control.FUSED)} with vectorized = true and no env_kwargs, not to "
            f"{env_id} as configured; remove the kernel option",
        )
    if kernel == "fused" and env_id not in control.FUSED:
        raise ConfigError("task.kernel", f'{env_id} has no fused kernel; use kernel = "numpy" or remove the option')
    return kernel


@dataclass(eq=False)
class GymTask(Task):
    """A Gymnasium environment (see the module docstring). `name` is the versioned env id (with
    its ``module:`` prefix when it was given one); the spec records it with the options given
    (e.g. ``{"name": "BipedalWalker-v3", "no_fall_penalty": True}``)."""

    env_id: str = ""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    discrete: bool = True
    action_low: np.ndarray = field(default_factory=lambda: np.zeros(1))
    action_high: np.ndarray = field(default_factory=lambda: np.zeros(1))
    action_dtype: str = "<i8"
    no_fall_penalty: bool = False
    #: name of the numpy twin class of this task ("" = the pool of Gymnasium environments)
    twin: str = ""
    #: episode path: "fused" (`wann.tasks.control` kernel), "numpy" (the twin stepped from
    #: Python) or "" (the twin when there is one, else the pool)
    kernel: str = ""

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
        if self.kernel == "fused":
            lo, hi = float(self.action_low[0]), float(self.action_high[0])
            return control.run_episodes(
                self.env_id, batch, row_genome, row_weight, row_seed, ew, self.max_steps, lo, hi
            )
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


__all__ = ["GymTask", "make_gym_task", "resolve_id", "split_module", "biped_shaped_reward", "EXAMPLES", "INPUT_NAMES"]
