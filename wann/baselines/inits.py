"""Initialisation schemes shared by every trained counterpart, and the seeds of replicates.

A scheme names how a method's initial weights are drawn; the study sweeps them as an axis:

- ``default``: each method's own initialisation, bit-identical to the code before schemes
  existed (CMA-ES: N(0, 0.1^2) from `cmaes.init_weights`; torch MLPs: PyTorch's `nn.Linear`
  default; `genome_adam`: U(+-1/sqrt(fan_in)) by `genome_adam.init_weights`). The caller
  supplies it (a zero-argument callable), so this module never re-implements it.
- ``he``: He normal. A weight into a node with fan-in n ~ N(0, 2/n), where n counts the
  node's enabled incoming connections not from a bias node (n = 0 is taken as 1); bias
  weights 0.
- ``uniform2``: every weight and bias ~ U(-2, 2), the WANN's shared-weight range.

Replicates re-draw only the initial weights of a fixed structure: replicate ``rep`` of seed
``seed`` draws its init from `replicate_seed` (rep 0 is the seed itself, so base cells are
unchanged).
"""

from __future__ import annotations

import difflib

import numpy as np

from wann.errors import ConfigError

SCHEMES = ("default", "he", "uniform2")
"""The init schemes, in their canonical order: ``default`` (each method's own), ``he`` (He
normal, N(0, 2/fan_in), biases 0), ``uniform2`` (every weight and bias U(-2, 2))."""

UNIFORM2_BOUND = 2.0
"""Half-width of the ``uniform2`` scheme: weights ~ U(-2, 2)."""


def check_scheme(scheme: str, field: str = "init") -> str:
    """`scheme` if it is one of `SCHEMES`, else a `ConfigError` on `field` naming the choices
    (and the closest one, when there is a close one)."""
    if isinstance(scheme, str) and scheme in SCHEMES:
        return scheme
    msg = f"unknown init scheme {scheme!r}; use one of {', '.join(SCHEMES)}"
    close = difflib.get_close_matches(str(scheme), SCHEMES, n=1)
    if close:
        msg += f" (did you mean {close[0]!r}?)"
    raise ConfigError(field, msg)


def replicate_seed(seed: int, rep: int) -> int:
    """The init seed of replicate `rep` of `seed`: `seed` itself for rep 0; for rep > 0 a
    deterministic integer in [0, 2**32) drawn from ``numpy.random.SeedSequence([seed, rep])``
    (distinct across reps of one seed)."""
    seed, rep = int(seed), int(rep)
    if rep < 0:
        raise ValueError(f"replicate must be >= 0, got {rep}")
    if rep == 0:
        return seed
    return int(np.random.SeedSequence([seed & (2**63 - 1), rep]).generate_state(1, np.uint32)[0])


def fan_in(genome) -> np.ndarray:
    """Per connection of `genome` (C,), the fan-in of its destination node: the destination's
    enabled incoming connections whose source is not a bias node (0 when it has none)."""
    from wann.genome import BIAS

    bias = {n.id for n in genome.nodes if n.kind == BIAS}
    counts: dict[int, int] = {}
    for c in genome.connections:
        if c.enabled and c.source not in bias:
            counts[c.destination] = counts.get(c.destination, 0) + 1
    return np.array([counts.get(c.destination, 0) for c in genome.connections], dtype=np.int64)


def genome_init(genome, scheme: str, seed: int, default) -> np.ndarray:
    """Initial weights (C,), one per connection of `genome` in order, by `scheme`.

    ``default`` returns ``default()`` (the caller's own rule, bit-identical to before); ``he``
    draws each enabled non-bias connection into a node of fan-in n (`fan_in`, 0 -> 1) from
    N(0, 2/n) and sets bias edges to 0; ``uniform2`` draws every enabled connection, bias edges
    included, from U(-2, 2). Disabled connections are 0. Random draws come from
    ``numpy.random.default_rng(seed)``: one standard normal (he) or uniform (uniform2) per
    connection, disabled ones included, so the weight of a connection depends only on its
    position."""
    check_scheme(scheme)
    if scheme == "default":
        return np.asarray(default(), dtype=np.float64)
    from wann.genome import BIAS

    rng = np.random.default_rng(int(seed))
    n = len(genome.connections)
    enabled = np.array([c.enabled for c in genome.connections], dtype=bool)
    if scheme == "he":
        bias = {nd.id for nd in genome.nodes if nd.kind == BIAS}
        from_bias = np.array([c.source in bias for c in genome.connections], dtype=bool)
        sd = np.sqrt(2.0 / np.maximum(fan_in(genome), 1))
        w = rng.standard_normal(n) * sd
        return np.where(enabled & ~from_bias, w, 0.0)
    w = rng.uniform(-UNIFORM2_BOUND, UNIFORM2_BOUND, n)
    return np.where(enabled, w, 0.0)


def torch_init_linear(layer, scheme: str, generator) -> None:
    """Re-draw the weight (out, in) and bias (out,) of the torch `nn.Linear` `layer` in place by
    `scheme` from the torch `generator`: ``he``: weight ~ N(0, 2/in), bias 0; ``uniform2``:
    weight then bias ~ U(-2, 2). ``default`` leaves the layer as torch built it."""
    import torch

    check_scheme(scheme)
    if scheme == "default":
        return
    with torch.no_grad():
        if scheme == "he":
            fan = max(int(layer.weight.shape[1]), 1)
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * np.sqrt(2.0 / fan))
            if layer.bias is not None:
                layer.bias.zero_()
        else:
            b = UNIFORM2_BOUND
            layer.weight.copy_((torch.rand(layer.weight.shape, generator=generator) * 2.0 - 1.0) * b)
            if layer.bias is not None:
                layer.bias.copy_((torch.rand(layer.bias.shape, generator=generator) * 2.0 - 1.0) * b)


__all__ = [
    "SCHEMES",
    "UNIFORM2_BOUND",
    "check_scheme",
    "fan_in",
    "genome_init",
    "replicate_seed",
    "torch_init_linear",
]
