"""Curvature of the classification loss around one network's weights (torch, CPU, one thread).

Both measures take a classification `task`, a `genome` and its individual weights (C,)
float64, one per connection (disabled connections are ignored: they get no perturbation and
are not Hessian coordinates), and use the mean cross-entropy in nats on a task split
(`wann.measures.torch_net.loss_fn`):

- `sam_sharpness` (Foret et al. 2021): one normalised ascent step of radius rho (in weight
  units) along the gradient over the enabled weights; sharpness = L(w + e) - L(w), in nats.
- `top_hessian_eigenvalue`: the largest eigenvalue of the loss Hessian (E, E) w.r.t. the E
  enabled weights (nats per weight unit squared): exact for small nets, else power iteration on
  Hessian-vector products.
"""

from __future__ import annotations

import numpy as np

from wann.genome import Genome
from wann.measures.torch_net import _enabled_index, _torch, loss_fn


def sam_sharpness(task, genome: Genome, weights: np.ndarray, rho: float = 0.05, split: str = "train") -> dict:
    """SAM sharpness (Foret et al. 2021), one ascent step: e = rho * g / ||g|| with g the loss
    gradient over the enabled connections (disabled entries stay 0); sharpness = L(w + e) - L(w).
    Returns {"loss", "loss_perturbed", "sharpness", "grad_norm", "rho"} as plain floats."""
    torch = _torch()
    f = loss_fn(task, genome, split)
    w = torch.tensor(np.asarray(weights, dtype=np.float64), requires_grad=True)
    loss = f(w)
    (g,) = torch.autograd.grad(loss, w)
    mask = torch.zeros_like(g)
    mask[torch.as_tensor(_enabled_index(genome))] = 1.0
    g = g * mask
    norm = float(g.norm())
    e = rho * g / norm if norm > 0 else torch.zeros_like(g)
    with torch.no_grad():
        lp = float(f(w.detach() + e))
    base = float(loss.detach())
    return {"loss": base, "loss_perturbed": lp, "sharpness": lp - base, "grad_norm": norm, "rho": float(rho)}


def _power(torch, op, n: int, iters: int, gen, tol: float) -> float:
    """Dominant eigenvalue (largest |lambda|, with its sign) of a symmetric operator by power
    iteration with the Rayleigh quotient; stops early when it moves by less than tol relative."""
    u = torch.randn(n, dtype=torch.float64, generator=gen)
    u = u / u.norm()
    lam = 0.0
    for _ in range(max(1, iters)):
        hu = op(u)
        new = float(u @ hu)
        norm = float(hu.norm())
        if norm == 0.0:
            return 0.0
        u = hu / norm
        if abs(new - lam) <= tol * max(abs(new), 1e-30):
            return new
        lam = new
    return lam


def top_hessian_eigenvalue(
    task,
    genome: Genome,
    weights: np.ndarray,
    max_exact: int = 3000,
    iters: int = 50,
    seed: int = 0,
    split: str = "train",
    tol: float = 1e-7,
) -> float:
    """Largest (algebraic) eigenvalue of the Hessian of the cross-entropy w.r.t. the enabled
    weights. Exact (full Hessian + `numpy.linalg.eigvalsh`) up to `max_exact` enabled weights,
    else power iteration on Hessian-vector products; when the dominant eigenvalue is negative a
    second run on H - lambda I finds the top of the spectrum."""
    torch = _torch()
    f = loss_fn(task, genome, split)
    idx = torch.as_tensor(_enabled_index(genome))
    n = int(idx.numel())
    if n == 0:
        return 0.0
    C = len(genome.connections)
    base = torch.as_tensor(np.asarray(weights, dtype=np.float64))

    def loss_of(v):
        return f(torch.zeros(C, dtype=torch.float64).index_copy(0, idx, v))

    v0 = base[idx].clone()
    if n <= max_exact:
        H = torch.autograd.functional.hessian(loss_of, v0).detach().numpy()
        return float(np.linalg.eigvalsh(0.5 * (H + H.T))[-1])
    v = v0.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_of(v), v, create_graph=True)
    if not g.requires_grad:  # the loss is linear in the weights
        return 0.0

    def hvp(u):
        (hu,) = torch.autograd.grad(g, v, grad_outputs=u, retain_graph=True)
        return hu.detach()

    return _top_eigenvalue_power(torch, hvp, n, iters, seed, tol)


def _top_eigenvalue_power(torch, op, n: int, iters: int, seed: int, tol: float) -> float:
    """Largest (algebraic) eigenvalue of a symmetric operator: power iteration finds the dominant
    one; if that is negative, a second run on op - lambda I (whose spectrum is >= 0) finds the
    top of the spectrum."""
    gen = torch.Generator().manual_seed(int(seed))
    lam = _power(torch, op, n, iters, gen, tol)
    if lam < 0:
        lam = lam + _power(torch, lambda u: op(u) - lam * u, n, iters, gen, tol)
    return float(lam)


__all__ = ["sam_sharpness", "top_hessian_eigenvalue"]
