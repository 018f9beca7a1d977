"""Lane math: exp, tanh, sin and cos over arrays of lanes, written so the compiler vectorises them.

numba turns ``math.tanh(x[l])`` in a lane loop into one scalar C-library call per lane, and the
loop then cannot use SIMD (this machine's numba has no SVML). The functions here compute the
same functions with branch-free float64 arithmetic (range reduction, polynomial, a select per
case), each as a few loops over lanes that LLVM vectorises (AVX2: 4 lanes per instruction).

Accuracy: each result is within 1 ulp of the C library's (glibc's correctly rounded exp, sin and
cos; its tanh), and most are bit-identical; `tests/test_vmath.py` checks this on millions of
arguments over every range the kernels meet. Special values follow the C library: NaN in, NaN
out; exp(-inf) = 0, exp(+inf) = inf, tanh(+-inf) = +-1, sin(+-inf) = NaN; results that
underflow are subnormal or 0 as in C. sin and cos are within 1 ulp for |y| <= 2^29 pi/2 (8.4e8);
beyond that the reduction is inexact (the tasks' values never get there; a C-library fallback
is not used because a call anywhere in a kernel halves its speed).

Methods (textbook: Cody & Waite range reduction, Taylor or Chebyshev polynomials):
- exp(x) = 2^k exp(r), k = round(x / ln 2), r = x - k ln 2 with a two-part ln 2 (the low part
  kept as a correction), exp(r) by its Taylor series to r^13 (|r| <= ln2/2: truncation < 5e-18),
  2^k built from the integer bits as two factors so 2^k never overflows before the product.
- tanh(x) = x + x s P(s), s = x^2, for |x| < 0.75 (P: degree-13 Chebyshev fit, see
  experiments/vmath_fit.py); else 1 - 2 / (exp(2|x|) + 1); the sign copied from x.
- sin, cos(y): k = round(y / (pi/2)), r = y - k pi/2 with a four-part pi/2 (r kept as hi + lo),
  sin r and cos r by Taylor series to r^17 / r^18 (|r| <= pi/4), the quadrant k mod 4 picks
  +-sin r or +-cos r.

Every function takes the input lanes `x` (>= n,) float64, writes `out[:n]` (may be `x` itself
only where noted) and uses caller-provided scratch rows (float64, >= n each), so the kernels
allocate nothing per step.

Vector width: the kernels' lane loops are short (6 weights x 3 rollouts = 18 lanes, padded to
20), and LLVM's own plan for them (vectors unrolled 4x, so many lanes per pass that 20 never
reached the vector body) ran them one lane at a time in the scalar remainder loop. Importing
this module therefore sets, process-wide (numba has no per-function switch): no unrolling
(``-force-vector-interleave=1``) and a vectorised remainder of 4 lanes
(``-epilogue-vectorization-force-VF=4``). Checked on this machine (2026-12-03, LLVM's
vectorisation remarks and the kernels' machine code): every vectorised lane loop is 4 doubles
wide (256-bit ymm registers, LLVM's preferred width on this AVX-512 CPU; no zmm instruction in
the kernels), so 20 lanes run as 5 x 4 and no loop over whole groups of `LANES` (4) lanes has a
scalar remainder. (An earlier version of this text said 8 + 8 + 4; forcing 8-wide vectors,
``-force-vector-width=8``, measured 0.65x.) Champion-sized swing-up 1.5x, the same numbers
(vectorising element-wise loops never reorders arithmetic). ``WANN_LLVM_DEFAULTS=1`` leaves
LLVM's defaults (to measure the difference; with a NUMBA_CACHE_DIR of its own, as numba's
cache does not record LLVM options).
"""

from __future__ import annotations

import math
import os

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

#: the kernels run their lane loops over whole groups of this many lanes (see the module docstring)
LANES = 4
if os.environ.get("WANN_LLVM_DEFAULTS", "") in ("", "0"):
    llvm.set_option("wann", "-force-vector-interleave=1")
    llvm.set_option("wann", "-epilogue-vectorization-force-VF=4")
    llvm.set_option("wann", "-epilogue-vectorization-minimum-VF=4")

#: x + MAGIC rounds x (|x| < 2^51) to an integer held in the low mantissa bits of the sum
MAGIC = 6755399441055744.0  # 1.5 * 2^52
MAGIC_BITS = 0x4338000000000000
LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01  # 32 trailing zero bits: k * LN2_HI is exact for |k| < 2^21
LN2_LO = 1.90821492927058770002e-10
TWO_OVER_PI = 0.6366197723675814
#: pi/2 in four parts (the first two of 24 bits, so k * part is exact for |k| < 2^29), from
#: experiments/vmath_fit.py; their sum is pi/2 to 7e-49
PIO2_1 = 1.5707963705062866
PIO2_2 = -4.371138828673793e-08
PIO2_3 = -1.7151244994428829e-15
PIO2_4 = 8.4784276603689e-32
#: the reduction is exact up to |y| = 2^29 pi/2; beyond it sin and cos lose accuracy
TRIG_MAX = 2.0**29 * (math.pi / 2)
TANH_POLY_MAX = 0.75
#: experiments/vmath_fit.py: (tanh(a) / a - 1) / a^2 as a polynomial in s = a^2, lowest first
TANH_P = (
    -0.3333333333333333,
    0.13333333333333294,
    -0.0539682539682076,
    0.021869488534033452,
    -0.008863235479105364,
    0.003592127305771337,
    -0.0014558275482916571,
    0.0005899837682081133,
    -0.0002389332673687292,
    9.628953316427487e-05,
    -3.784864316675998e-05,
    1.3601729022897116e-05,
    -3.833589294501544e-06,
    5.985399672039163e-07,
)
_F = [1.0 / math.factorial(i) for i in range(20)]
E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13 = _F[2:14]
S3, S5, S7, S9, S11, S13, S15, S17 = (-_F[3], _F[5], -_F[7], _F[9], -_F[11], _F[13], -_F[15], _F[17])
C4, C6, C8, C10, C12, C14, C16, C18 = (_F[4], -_F[6], _F[8], -_F[10], _F[12], -_F[14], _F[16], -_F[18])
T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13 = TANH_P


@intrinsic
def _bits(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64 (a bit cast, no conversion)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, k):
    """The float64 whose IEEE-754 bits are the int64 `k`."""
    if not isinstance(k, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(inline="always", cache=True, error_model="numpy")
def exp1(x):
    """exp(x), branch-free (vectorises inside a lane loop)."""
    v = 710.0 if x > 710.0 else x  # exp is inf beyond 709.8, 0 below -745.2; NaN stays NaN
    v = -746.0 if v < -746.0 else v
    t = v * LOG2E + MAGIC
    k = _bits(t) - MAGIC_BITS
    k1 = k >> 1
    kf = t - MAGIC
    hi = v - kf * LN2_HI
    lo = kf * LN2_LO
    r = hi - lo
    dr = (hi - r) - lo
    # Estrin's scheme: short dependency chains, so lanes and iterations overlap
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    q = (
        (E2 + r * E3)
        + r2 * (E4 + r * E5)
        + r4 * ((E6 + r * E7) + r2 * (E8 + r * E9))
        + r8 * ((E10 + r * E11) + r2 * (E12 + r * E13))
    )
    p = r2 * q
    s = 1.0 + r
    e = (1.0 - s) + r
    y = s + (e + (p + dr * (1.0 + r)))
    return (y * _from_bits((k1 + 1023) << 52)) * _from_bits((k - k1 + 1023) << 52)


@njit(inline="always", cache=True, error_model="numpy")
def tanh1(x):
    """tanh(x), branch-free (both forms computed, one selected)."""
    a = abs(x)
    s = a * a
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    p = (
        (T0 + s * T1)
        + s2 * (T2 + s * T3)
        + s4 * ((T4 + s * T5) + s2 * (T6 + s * T7))
        + s8 * ((T8 + s * T9) + s2 * (T10 + s * T11) + s4 * (T12 + s * T13))
    )
    small = a + a * s * p
    big = 1.0 - 2.0 / (exp1(2.0 * (40.0 if a > 40.0 else a)) + 1.0)  # tanh(40) rounds to 1
    return math.copysign(small if a < TANH_POLY_MAX else big, x)


@njit(inline="always", cache=True, error_model="numpy")
def _sin_cos_r(r, lo):
    """(sin(r + lo), cos(r + lo)) for |r| <= pi/4, |lo| tiny."""
    z = r * r
    z2 = z * z
    z4 = z2 * z2
    ps = z * ((S3 + z * S5) + z2 * (S7 + z * S9) + z4 * ((S11 + z * S13) + z2 * (S15 + z * S17)))
    sn = r + (r * ps + lo * (1.0 - 0.5 * z))
    pc = z2 * ((C4 + z * C6) + z2 * (C8 + z * C10) + z4 * ((C12 + z * C14) + z2 * (C16 + z * C18)))
    hz = 0.5 * z
    w = 1.0 - hz
    cs = w + (((1.0 - w) - hz) + (pc - r * lo))
    return sn, cs


@njit(inline="always", cache=True, error_model="numpy")
def _quarter(y):
    """y = k pi/2 + r + lo: returns (k mod 4, r, lo), |r| <= pi/4 (four-part pi/2, the rounding
    of the second subtraction kept exactly by TwoSum)."""
    t = y * TWO_OVER_PI + MAGIC
    q = _bits(t) & 3
    kf = t - MAGIC
    hi = y - kf * PIO2_1  # exact (Sterbenz; k * PIO2_1 is exact)
    t2 = kf * PIO2_2  # exact
    s = hi - t2
    bb = s - hi
    err = (hi - (s - bb)) + (-t2 - bb)
    lo = (err - kf * PIO2_3) - kf * PIO2_4
    r = s + lo
    return q, r, (s - r) + lo


@njit(inline="always", cache=True, error_model="numpy")
def _pick(q, sn, cs):
    """sin(k pi/2 + r) from (sin r, cos r) and q = k mod 4: +sin, +cos, -sin, -cos (two selects,
    no switch, so the loop vectorises)."""
    v = cs if (q & 1) != 0 else sn
    return -v if (q & 2) != 0 else v


@njit(inline="always", cache=True, error_model="numpy")
def sincos1(y):
    """(sin y, cos y), branch-free (accurate for |y| <= TRIG_MAX)."""
    q, r, lo = _quarter(y)
    sn, cs = _sin_cos_r(r, lo)
    return (y if y == 0.0 else _pick(q, sn, cs)), _pick(q + 1, sn, cs)  # sin(-0) = -0


@njit(inline="always", cache=True, error_model="numpy")
def sin1(y):
    """sin y, branch-free (accurate for |y| <= TRIG_MAX)."""
    q, r, lo = _quarter(y)
    sn, cs = _sin_cos_r(r, lo)
    return y if y == 0.0 else _pick(q, sn, cs)


@njit(inline="always", cache=True, error_model="numpy")
def cos1(y):
    """cos y, branch-free (accurate for |y| <= TRIG_MAX)."""
    q, r, lo = _quarter(y)
    sn, cs = _sin_cos_r(r, lo)
    return _pick(q + 1, sn, cs)


@njit(inline="always", cache=True, error_model="numpy")
def exp_lanes(x, out, n):
    """out[:n] = exp(x[:n]); out may be x."""
    for l in range(n):
        out[l] = exp1(x[l])


@njit(inline="always", cache=True, error_model="numpy")
def tanh_lanes(x, out, n):
    """out[:n] = tanh(x[:n]); out may be x."""
    for l in range(n):
        out[l] = tanh1(x[l])


@njit(inline="always", cache=True, error_model="numpy")
def sin_lanes(y, out, n):
    """out[:n] = sin(y[:n]); out may be y."""
    for l in range(n):
        out[l] = sin1(y[l])


@njit(inline="always", cache=True, error_model="numpy")
def cos_lanes(y, out, n):
    """out[:n] = cos(y[:n]); out may be y."""
    for l in range(n):
        out[l] = cos1(y[l])


@njit(inline="always", cache=True, error_model="numpy")
def sincos_lanes(y, sin_out, cos_out, n):
    """sin_out[:n] = sin(y[:n]), cos_out[:n] = cos(y[:n]); y must not be an output."""
    for l in range(n):
        sin_out[l], cos_out[l] = sincos1(y[l])


# ---------------------------------------------------------------------------------------------
# whole-array forms (for tests and numpy callers)
# ---------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _apply(kind, x):
    n = x.shape[0]
    out = np.empty(n)
    other = np.empty(n)
    if kind == 0:
        exp_lanes(x, out, n)
    elif kind == 1:
        tanh_lanes(x, out, n)
    elif kind == 2:
        sin_lanes(x, out, n)
    elif kind == 3:
        cos_lanes(x, out, n)
    elif kind == 4:
        sincos_lanes(x, out, other, n)
    else:
        sincos_lanes(x, other, out, n)
    return out


def vexp(x: np.ndarray) -> np.ndarray:
    """exp of a 1-D float64 array through the lane functions."""
    return _apply(0, np.ascontiguousarray(x, dtype=np.float64))


def vtanh(x: np.ndarray) -> np.ndarray:
    return _apply(1, np.ascontiguousarray(x, dtype=np.float64))


def vsin(x: np.ndarray, paired: bool = False) -> np.ndarray:
    """sin (through `sin_lanes`, or `sincos_lanes` when paired)."""
    return _apply(4 if paired else 2, np.ascontiguousarray(x, dtype=np.float64))


def vcos(x: np.ndarray, paired: bool = False) -> np.ndarray:
    return _apply(5 if paired else 3, np.ascontiguousarray(x, dtype=np.float64))
