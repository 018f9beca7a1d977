"""The equations of Gymnasium's five classic-control environments, one lane (or all lanes) at a
time, for the fused kernel of `wann.tasks.control` (which documents the exactness rules).

State st (4, lanes) float64 (unused rows 0), observation ob (n_obs, lanes) float64, both updated
in place; `step_lanes` steps lanes 0..n-1 of one environment (a small integer code). Units are
Gymnasium's: metres, seconds, radians, newtons. Acrobot-v1's step is one vectorised lane loop
(`acrobot_lanes`, `wann.vmath` trig); the others run lane by lane with the C library's math, bit
for bit as Gymnasium.

numba does not recompile a cached caller when only this file changes: clear the caches
(`make clean-cache`) after editing it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from wann import vmath

CARTPOLE, ACROBOT, PENDULUM, MOUNTAINCAR, MOUNTAINCAR_CONT = 0, 1, 2, 3, 4

F32 = np.float32

# CartPole-v1 (constants computed as Gymnasium computes them)
CP_G, CP_MP, CP_TOTAL, CP_LEN = 9.8, 0.1, 0.1 + 1.0, 0.5
CP_PML = 0.1 * 0.5
CP_FORCE, CP_TAU, CP_X, CP_TH = 10.0, 0.02, 2.4, 12 * 2 * math.pi / 360

# Acrobot-v1: the constant factors of Gymnasium's _dsdt, grouped as Python evaluates them
_M1 = _M2 = _L1 = _I1 = _I2 = 1.0
_LC1 = _LC2 = 0.5
_G = 9.8
AC_D1_A = _M1 * _LC1**2  # d1 = D1_A + m2 * (D1_B + D1_C * cos t2) + I1 + I2
AC_D1_B = _L1**2 + _LC2**2
AC_D1_C = 2 * _L1 * _LC2
AC_D2_A = _LC2**2  # d2 = m2 * (D2_A + D2_C * cos t2) + I2
AC_D2_C = _L1 * _LC2
AC_PHI2 = _M2 * _LC2 * _G
AC_P1_A = -_M2 * _L1 * _LC2
AC_P1_B = 2 * _M2 * _L1 * _LC2
AC_P1_C = (_M1 * _LC1 + _M2 * _L1) * _G
AC_DD2_A = _M2 * _L1 * _LC2
AC_DD2_DEN = _M2 * _LC2**2 + _I2
AC_DT = 0.2 - 0  # rk4's t[1] - t[0]
AC_V1, AC_V2 = 4 * math.pi, 9 * math.pi
AC_TWO_PI = math.pi - (-math.pi)  # wrap's diff

# Pendulum-v1
PE_MAX_SPEED, PE_MAX_TORQUE, PE_DT = 8.0, 2.0, 0.05
PE_SIN = 3 * 10.0 / (2 * 1.0)
PE_U = 3.0 / (1.0 * 1.0**2)

# MountainCar-v0 / MountainCarContinuous-v0
MC_FORCE, MC_GRAVITY, MC_POWER = 0.001, 0.0025, 0.0015
MC_MAX_SPEED, MC_MIN_POS, MC_MAX_POS, MC_GOAL, MCC_GOAL = 0.07, -1.2, 0.6, 0.5, 0.45


@njit(inline="always", cache=True)
def _obs32(x):
    """x rounded to float32, as float64 (Gymnasium's float32 observations)."""
    return np.float64(np.float32(x))


@njit(inline="always", cache=True)
def _cartpole(st, ob, l, a):
    x, xd, th, thd = st[0, l], st[1, l], st[2, l], st[3, l]
    force = CP_FORCE if a == 1 else -CP_FORCE
    c = math.cos(th)
    s = math.sin(th)
    temp = (force + CP_PML * (thd * thd) * s) / CP_TOTAL
    thacc = (CP_G * s - c * temp) / (CP_LEN * (4.0 / 3.0 - CP_MP * (c * c) / CP_TOTAL))
    xacc = temp - CP_PML * thacc * c / CP_TOTAL
    x = x + CP_TAU * xd
    xd = xd + CP_TAU * xacc
    th = th + CP_TAU * thd
    thd = thd + CP_TAU * thacc
    st[0, l], st[1, l], st[2, l], st[3, l] = x, xd, th, thd
    ob[0, l], ob[1, l], ob[2, l], ob[3, l] = _obs32(x), _obs32(xd), _obs32(th), _obs32(thd)
    return 1.0, x < -CP_X or x > CP_X or th < -CP_TH or th > CP_TH


@njit(inline="always", cache=True, error_model="numpy")
def _acrobot_accel(t1, t2, w1, w2, torque):
    """Gymnasium's AcrobotEnv._dsdt, its accelerations (ddtheta1, ddtheta2): the same operations
    in the same order, with `wann.vmath` cos and sin and ``w * w`` for ``w**2``."""
    s2, c2 = vmath.sincos1(t2)
    d1 = AC_D1_A + _M2 * (AC_D1_B + AC_D1_C * c2) + _I1 + _I2
    d2 = _M2 * (AC_D2_A + AC_D2_C * c2) + _I2
    phi2 = AC_PHI2 * vmath.cos1(t1 + t2 - math.pi / 2.0)
    phi1 = AC_P1_A * (w2 * w2) * s2 - AC_P1_B * w2 * w1 * s2 + AC_P1_C * vmath.cos1(t1 - math.pi / 2) + phi2
    dd2 = (torque + d2 / d1 * phi1 - AC_DD2_A * (w1 * w1) * s2 - phi2) / (AC_DD2_DEN - (d2 * d2) / d1)
    dd1 = -(d2 * dd2 + phi1) / d1
    return dd1, dd2


@njit(inline="always", cache=True)
def _wrap_once(x):
    """One pass of Gymnasium's wrap into [-pi, pi] (a select each way; `_wrap` finishes the rare rest)."""
    x = x - AC_TWO_PI if x > math.pi else x
    return x + AC_TWO_PI if x < -math.pi else x


@njit(cache=True)
def _wrap(x):
    """Gymnasium's wrap(x, -pi, pi): whole turns off until x is in [-pi, pi]."""
    while x > math.pi:
        x = x - AC_TWO_PI
    while x < -math.pi:
        x = x + AC_TWO_PI
    return x


@njit(inline="always", cache=True)
def _bound(x, m):
    """Python's min(max(x, -m), m)."""
    v = -m if -m > x else x
    return m if m < v else v


@njit(inline="always", cache=True, error_model="numpy")
def _acrobot_observe(st, ob, l, rew, term):
    """Observation, reward and termination of lane l from its state st[:, l]."""
    n0, n1 = st[0, l], st[1, l]
    s0, c0 = vmath.sincos1(n0)
    s1, c1 = vmath.sincos1(n1)
    ob[0, l], ob[1, l] = _obs32(c0), _obs32(s0)
    ob[2, l], ob[3, l] = _obs32(c1), _obs32(s1)
    ob[4, l], ob[5, l] = _obs32(st[2, l]), _obs32(st[3, l])
    t = -c0 - vmath.cos1(n1 + n0) > 1.0
    term[l] = t
    rew[l] = 0.0 if t else -1.0


@njit(cache=True, error_model="numpy")
def acrobot_lanes(st, ob, ai, n, rew, term):
    """One Acrobot-v1 step of lanes 0..n-1, as one loop the compiler vectorises (`wann.vmath`
    trig, selects for the wrap and the bounds): st (4, >= n) state (theta1, theta2, dtheta1,
    dtheta2) [rad, rad/s], ob (6, >= n) observation, both updated in place; ai (>= n,) int
    actions 0..2; writes rew (>= n,) float64 and term (>= n,) bool.

    Gymnasium's RK4 step in its operation order; the only differences are vmath's cos and sin
    (within 1 ulp of the C library's, 3% of calls 1 ulp off) and ``w * w`` for numpy's
    ``w**2``, so a step agrees with Gymnasium's to ~1e-13 relative and the episodes, Acrobot
    being chaotic, agree in distribution rather than bit for bit (see tests/test_control_kernels.py)."""
    h = AC_DT / 2.0
    k = AC_DT / 6.0
    redo = False
    for l in range(n):
        y0, y1, y2, y3 = st[0, l], st[1, l], st[2, l], st[3, l]
        torque = np.float64(ai[l]) - 1.0  # AVAIL_TORQUE = [-1.0, 0.0, +1]; rk4 keeps it unchanged
        a2, a3 = _acrobot_accel(y0, y1, y2, y3, torque)
        b0, b1 = y2 + h * a2, y3 + h * a3
        b2, b3 = _acrobot_accel(y0 + h * y2, y1 + h * y3, b0, b1, torque)
        c0, c1 = y2 + h * b2, y3 + h * b3
        c2, c3 = _acrobot_accel(y0 + h * b0, y1 + h * b1, c0, c1, torque)
        e0, e1 = y2 + AC_DT * c2, y3 + AC_DT * c3
        e2, e3 = _acrobot_accel(y0 + AC_DT * c0, y1 + AC_DT * c1, e0, e1, torque)
        n0 = _wrap_once(y0 + k * (y2 + 2 * b0 + 2 * c0 + e0))
        n1 = _wrap_once(y1 + k * (y3 + 2 * b1 + 2 * c1 + e1))
        redo |= (abs(n0) > math.pi) | (abs(n1) > math.pi)
        st[0, l], st[1, l] = n0, n1
        st[2, l] = _bound(y2 + k * (a2 + 2 * b2 + 2 * c2 + e2), AC_V1)
        st[3, l] = _bound(y3 + k * (a3 + 2 * b3 + 2 * c3 + e3), AC_V2)
        _acrobot_observe(st, ob, l, rew, term)
    if redo:  # an angle more than a turn outside [-pi, pi]: finish the wrap, observe again
        for l in range(n):
            if abs(st[0, l]) > math.pi or abs(st[1, l]) > math.pi:
                st[0, l], st[1, l] = _wrap(st[0, l]), _wrap(st[1, l])
                _acrobot_observe(st, ob, l, rew, term)


@njit(inline="always", cache=True)
def _pendulum(st, ob, l, u, two):
    th, thd = st[0, l], st[1, l]
    u = min(max(u, F32(-PE_MAX_TORQUE)), F32(PE_MAX_TORQUE))
    norm = ((th + math.pi) % (2 * math.pi)) - math.pi
    costs = norm**two + 0.1 * thd**two + np.float64(F32(0.001) * u ** np.float32(two))
    nthd = thd + (PE_SIN * math.sin(th) + np.float64(F32(PE_U) * u)) * PE_DT
    if nthd < -PE_MAX_SPEED:
        nthd = -PE_MAX_SPEED
    elif nthd > PE_MAX_SPEED:
        nthd = PE_MAX_SPEED
    nth = th + nthd * PE_DT
    st[0, l], st[1, l] = nth, nthd
    ob[0, l], ob[1, l], ob[2, l] = _obs32(math.cos(nth)), _obs32(math.sin(nth)), _obs32(nthd)
    return -costs, False


@njit(inline="always", cache=True)
def _mountaincar(st, ob, l, a):
    pos, vel = st[0, l], st[1, l]
    vel = vel + (float(a - 1) * MC_FORCE + math.cos(3 * pos) * (-MC_GRAVITY))
    vel = min(max(vel, -MC_MAX_SPEED), MC_MAX_SPEED)
    pos = min(max(pos + vel, MC_MIN_POS), MC_MAX_POS)
    if pos == MC_MIN_POS and vel < 0:
        vel = 0.0
    st[0, l], st[1, l] = pos, vel
    ob[0, l], ob[1, l] = _obs32(pos), _obs32(vel)
    return -1.0, pos >= MC_GOAL and vel >= 0


@njit(inline="always", cache=True)
def _mountaincar_cont(st, ob, l, u, t, two):
    """Gymnasium keeps the reset state in float64 (first step) and float32 afterwards."""
    if t == 1:
        pos, vel = st[0, l], st[1, l]
        vel = vel + np.float64(u * F32(MC_POWER) - np.float32(0.0025 * math.cos(3 * pos)))
        if vel > MC_MAX_SPEED:
            vel = MC_MAX_SPEED
        if vel < -MC_MAX_SPEED:
            vel = -MC_MAX_SPEED
        pos = pos + vel
        if pos > MC_MAX_POS:
            pos = MC_MAX_POS
        if pos < MC_MIN_POS:
            pos = MC_MIN_POS
        if pos == MC_MIN_POS and vel < 0:
            vel = 0.0
        term = pos >= MCC_GOAL and vel >= 0
        p32, v32 = np.float32(pos), np.float32(vel)
    else:  # numpy compares a float32 with a Python float in float32
        p32, v32 = np.float32(st[0, l]), np.float32(st[1, l])
        c = np.float32(0.0025 * math.cos(np.float64(F32(3.0) * p32)))
        v32 = v32 + (u * F32(MC_POWER) - c)
        if v32 > F32(MC_MAX_SPEED):
            v32 = F32(MC_MAX_SPEED)
        if v32 < F32(-MC_MAX_SPEED):
            v32 = F32(-MC_MAX_SPEED)
        p32 = p32 + v32
        if p32 > F32(MC_MAX_POS):
            p32 = F32(MC_MAX_POS)
        if p32 < F32(MC_MIN_POS):
            p32 = F32(MC_MIN_POS)
        if p32 == F32(MC_MIN_POS) and v32 < F32(0.0):
            v32 = F32(0.0)
        term = p32 >= F32(MCC_GOAL) and v32 >= F32(0.0)
    st[0, l], st[1, l] = np.float64(p32), np.float64(v32)
    ob[0, l], ob[1, l] = np.float64(p32), np.float64(v32)
    return (100.0 if term else 0.0) - np.float64(u) ** two * 0.1, term


@njit(inline="always", cache=True)
def _step(code, st, ob, l, a, u, t, two):
    """One environment step of lane l (every task but Acrobot-v1): st (4, lanes) state, ob
    (n_obs, lanes) observation, both updated in place; a: discrete action, u: float32 Box
    action. Returns (reward, terminated)."""
    if code == CARTPOLE:
        return _cartpole(st, ob, l, a)
    if code == PENDULUM:
        return _pendulum(st, ob, l, u, two)
    if code == MOUNTAINCAR:
        return _mountaincar(st, ob, l, a)
    return _mountaincar_cont(st, ob, l, u, t, two)


@njit(cache=True, error_model="numpy")
def step_lanes(code, st, ob, ai, af, n, t, two, rew, term):
    """One step of lanes 0..n-1 of environment `code`: st (4, >= n) state and ob (n_obs, >= n)
    observation updated in place; ai (>= n,) int64 discrete actions, af (>= n,) float32 Box
    actions; t: the step's number (1 = the first after reset); writes rew (>= n,) float64 and
    term (>= n,) bool."""
    if code == ACROBOT:
        acrobot_lanes(st, ob, ai, n, rew, term)
        return
    for l in range(n):
        rew[l], term[l] = _step(code, st, ob, l, ai[l], af[l], t, two)
