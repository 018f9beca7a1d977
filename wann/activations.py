"""The activation table, with the ids of the reference WANN code (Gaier & Ha, 2019).

| id | name     | function                 |
|----|----------|--------------------------|
| 1  | linear   | x                        |
| 2  | step     | 1 if x > 0 else 0        |
| 3  | sin      | sin(pi x)                |
| 4  | gaussian | exp(-x^2 / 2)            |
| 5  | tanh     | tanh(x)                  |
| 6  | sigmoid  | (tanh(x / 2) + 1) / 2    |
| 7  | inverse  | -x                       |
| 8  | abs      | |x|                      |
| 9  | relu     | max(0, x)                |
| 10 | cos      | cos(pi x)                |

`apply_numpy` is the array form; the compiled kernels in `wann.network` implement the same
table element by element and are tested against it. Both compute sin, cos, exp and tanh with
`wann.vmath` (within 1 ulp of the C library, and vectorised in the kernels), so the two give the
same numbers bit for bit.
"""

from __future__ import annotations

import numpy as np

from wann import vmath

LINEAR, STEP, SIN, GAUSSIAN, TANH, SIGMOID, INVERSE, ABS, RELU, COS = range(1, 11)

NAMES: dict[int, str] = {
    LINEAR: "linear",
    STEP: "step",
    SIN: "sin",
    GAUSSIAN: "gaussian",
    TANH: "tanh",
    SIGMOID: "sigmoid",
    INVERSE: "inverse",
    ABS: "abs",
    RELU: "relu",
    COS: "cos",
}
IDS: dict[str, int] = {name: i for i, name in NAMES.items()}

#: Activations hidden nodes draw from on RL tasks.
ALL: tuple[int, ...] = tuple(NAMES)
#: Classification tasks exclude the step function (its gradient-free plateaus hurt cross-entropy).
NO_STEP: tuple[int, ...] = tuple(i for i in NAMES if i != STEP)


def apply_numpy(act_id: int, x: np.ndarray) -> np.ndarray:
    """Apply activation `act_id` element-wise to `x` (any shape, float64); returns a new array."""
    if act_id == LINEAR:
        return np.array(x, dtype=np.float64, copy=True)
    if act_id == STEP:
        return (x > 0.0).astype(np.float64)
    if act_id == SIN:
        return _lanes(vmath.vsin, np.pi * x)
    if act_id == GAUSSIAN:
        return _lanes(vmath.vexp, -(x * x) / 2.0)
    if act_id == TANH:
        return _lanes(vmath.vtanh, x)
    if act_id == SIGMOID:
        return (_lanes(vmath.vtanh, x / 2.0) + 1.0) / 2.0
    if act_id == INVERSE:
        return -x
    if act_id == ABS:
        return np.abs(x)
    if act_id == RELU:
        return np.maximum(0.0, x)
    if act_id == COS:
        return _lanes(vmath.vcos, np.pi * x)
    raise ValueError(f"unknown activation id {act_id!r}; known ids are 1..10 ({describe()})")


def _lanes(f, x) -> np.ndarray:
    """A `wann.vmath` whole-array function applied to an array of any shape."""
    x = np.asarray(x, dtype=np.float64)
    return f(x.reshape(-1)).reshape(x.shape)


def describe() -> str:
    """One line listing every id and name, for error messages."""
    return ", ".join(f"{i}={n}" for i, n in NAMES.items())
