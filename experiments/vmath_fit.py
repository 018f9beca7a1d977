"""Constants of `wann/vmath.py`: the small-argument tanh polynomial and the four-part pi/2 (needs
mpmath, which torch's sympy brings; tests/test_vmath.py checks the module holds these values).

For |x| < TANH_POLY_MAX = 0.75, tanh(x) = x + x * s * P(s) with s = x^2, where P is the
Chebyshev fit (degree 13 in s, 60 significant digits) of (tanh(sqrt(s)) / sqrt(s) - 1) / s on
[0, 0.75^2]. Its relative error contributes < 4e-19 to tanh (0.003 ulp).

    python experiments/vmath_fit.py          # print them (tanh coefficients lowest degree first)
"""

from __future__ import annotations


def tanh_coefficients(limit: float = 0.75, n: int = 14) -> list[float]:
    import mpmath as mp

    mp.mp.dps = 60

    def f(s):
        if s == 0:
            return mp.mpf(-1) / 3
        a = mp.sqrt(s)
        return (mp.tanh(a) / a - 1) / s

    coeffs = mp.chebyfit(f, [0, mp.mpf(limit) ** 2], n)  # highest degree first
    return [float(c) for c in reversed(coeffs)]


def pio2_parts() -> tuple[float, float, float, float]:
    """pi/2 as four doubles: two of 24 significant bits (so k * part is exact for |k| < 2^29), then
    two of 53; their sum is pi/2 to 7e-49."""
    import mpmath as mp

    mp.mp.dps = 80

    def rounded(x, bits):
        m, e = mp.frexp(x)
        return mp.ldexp(mp.nint(mp.ldexp(m, bits)), e - bits)

    left = mp.pi / 2
    parts = []
    for bits in (24, 24, 53, 53):
        p = rounded(left, bits)
        parts.append(float(p))
        left -= p
    return tuple(parts)


if __name__ == "__main__":
    print("TANH_P =", tuple(tanh_coefficients()))
    print("PIO2_1..4 =", pio2_parts())
