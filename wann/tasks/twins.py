"""Exact numpy twins of five Gymnasium classic-control environments, N episodes at once.

`CartPoleTwin` (CartPole-v1), `AcrobotTwin` (Acrobot-v1), `PendulumTwin` (Pendulum-v1),
`MountainCarTwin` (MountainCar-v0) and `MountainCarContinuousTwin` (MountainCarContinuous-v0),
keyed by env id in `TWINS`, step all rows of a `wann.tasks.gym.GymTask` with a few array
operations per step. They copy Gymnasium's equations, constants (its units: metres, seconds,
radians, newtons), observation dtypes and reset draws (the same ``np_random`` generator
Gymnasium builds from ``reset(seed=...)``), and the tests step them against the real
environments and compare every observation, reward, termination flag and internal state, bit
for bit. They are the plain numpy path of `wann.tasks.gym.GymTask` (``kernel = "numpy"``), and
their reset draws seed the fused kernels of `wann.tasks.control`.

Interface (`_Twin`): ``reset(seeds (N,)) -> obs (N, n_obs) float64``; ``step(actions)`` with
actions (N,) ints for a Discrete action space or (N, n) floats for a Box one, ``-> (obs (N',
n_obs) float64, reward (N',) float64, terminated (N',) bool)`` over the N' episodes still
running; ``keep(mask (N',) bool)`` drops the finished ones. Truncation by the step limit is the
caller's (`GymTask`).
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
from numba import njit


class _Twin:
    """Base of the twins: `state` (N, k) holds the running episodes' internal states."""

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


@_twin("MountainCar-v0")
class MountainCarTwin(_Twin):
    """Gymnasium's MountainCar-v0 (actions 0, 1, 2 push left, not at all, right; float64
    arithmetic with ``math.cos``; reward -1 on every step)."""

    FORCE, GRAVITY, MAX_SPEED, MIN_POS, MAX_POS, GOAL_POS, GOAL_VEL = 0.001, 0.0025, 0.07, -1.2, 0.6, 0.5, 0

    def reset(self, seeds) -> np.ndarray:
        pos = _starts(seeds, lambda rng: np.array([rng.uniform(low=-0.6, high=-0.4)]))
        self.state = np.concatenate([pos, np.zeros_like(pos)], axis=1)
        return self.state.astype(np.float32).astype(np.float64)

    def step(self, action):
        pos, vel = self.state[:, 0], self.state[:, 1]
        cos = np.array([math.cos(v) for v in (3 * pos).tolist()])
        vel = vel + ((np.asarray(action, dtype=np.int64) - 1) * self.FORCE + cos * (-self.GRAVITY))
        vel = np.clip(vel, -self.MAX_SPEED, self.MAX_SPEED)
        pos = np.clip(pos + vel, self.MIN_POS, self.MAX_POS)
        vel = np.where((pos == self.MIN_POS) & (vel < 0), 0.0, vel)
        term = (pos >= self.GOAL_POS) & (vel >= self.GOAL_VEL)
        self.state = np.stack([pos, vel], axis=1)
        return self.state.astype(np.float32).astype(np.float64), np.full(len(pos), -1.0), term


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


__all__ = ["TWINS", "CartPoleTwin", "AcrobotTwin", "PendulumTwin", "MountainCarTwin", "MountainCarContinuousTwin"]
