"""Trained and pruned counterparts on classification tasks (torch, CPU), scored by the project's
own evaluator after conversion to a `WeightedNetwork`.

Dense: an MLP (ReLU hidden, linear outputs, softmax cross-entropy) trained with Adam. Pruning to a
target connection count (biases count as connections, as in genomes): iterative, a geometric
schedule over `rounds`, each round fine-tuned with Adam; criteria
- magnitude |w|;
- taylor: per-example |w * dL/dw| averaged over the training set (Molchanov et al. 2016; the
  absolute value is taken per example, since the mean signed gradient vanishes at a minimum);
scores normalised per layer (L2) before the global ranking, and a connection is only removed when
every output keeps a path from an input. Masks are applied with `torch.nn.utils.prune`. Lottery
ticket: the final magnitude mask with the kept weights rewound to their initial values, retrained.
Random sparse: a connectivity-checked random mask of the same count, trained from initialisation.
Budget: examples seen (`episodes`) and CPU-seconds.
"""

from __future__ import annotations

import time

import numpy as np

from wann import activations
from wann.baselines.common import CHECKPOINTS, Budget, TrainResult
from wann.baselines.pruning import layer_ids, normalise_per_layer, prune_to, random_mask
from wann.weighted import WeightedNetwork, mlp_genome, with_mask


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


def build_mlp(n_in: int, hidden: list[int], n_out: int, seed: int, x_train: np.ndarray | None = None):
    """MLP whose first module standardises the inputs with the training split's mean and SD (a
    fixed buffer, folded into the first layer when converted to a genome)."""
    torch = _torch()
    torch.manual_seed(seed)
    mu = np.zeros(n_in) if x_train is None else x_train.mean(axis=0)
    sd = np.ones(n_in) if x_train is None else x_train.std(axis=0)
    sd = np.where(sd < 1e-8, 1.0, sd)
    layers, prev = [Standardize(mu, sd)], n_in
    for h in hidden:
        layers += [torch.nn.Linear(prev, h), torch.nn.ReLU()]
        prev = h
    layers.append(torch.nn.Linear(prev, n_out))
    return torch.nn.Sequential(*layers)


def Standardize(mu: np.ndarray, sd: np.ndarray):  # noqa: N802  (a module factory)
    torch = _torch()

    class _Standardize(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mu", torch.as_tensor(mu, dtype=torch.float32))
            self.register_buffer("sd", torch.as_tensor(sd, dtype=torch.float32))

        def forward(self, x):
            return (x - self.mu) / self.sd

    return _Standardize()


def linears(model):
    torch = _torch()
    return [m for m in model if isinstance(m, torch.nn.Linear)]


def flat_weights(model, fold: bool = True) -> np.ndarray:
    """Weights in the genome connection order: per layer, per output row, [bias, w_row...].
    fold: fold the input standardisation into the first layer (W/sd, b - W mu/sd), giving the
    weights of the same function on raw inputs; else the raw trainable values."""
    parts = []
    for i, lin in enumerate(linears(model)):
        w = (lin.weight_orig * lin.weight_mask if hasattr(lin, "weight_mask") else lin.weight).detach().numpy()
        w = w.astype(np.float64)
        b = lin.bias.detach().numpy().astype(np.float64)
        if fold and i == 0:
            mu, sd = model[0].mu.numpy().astype(np.float64), model[0].sd.numpy().astype(np.float64)
            b = b - w @ (mu / sd)
            w = w / sd[None, :]
        parts.append(np.concatenate([b[:, None], w], axis=1).ravel())
    return np.concatenate(parts).astype(np.float64)


def flat_mask(model) -> np.ndarray:
    parts = []
    for lin in linears(model):
        m = lin.weight_mask.detach().numpy() if hasattr(lin, "weight_mask") else np.ones(tuple(lin.weight.shape))
        parts.append(np.concatenate([np.ones((m.shape[0], 1)), m], axis=1).ravel())
    return np.concatenate(parts) > 0


def apply_mask(model, mask: np.ndarray) -> None:
    """Apply a flat connection mask (biases always kept) with torch.nn.utils.prune."""
    torch = _torch()
    from torch.nn.utils import prune as tprune

    k = 0
    for lin in linears(model):
        out_f, in_f = lin.weight.shape
        m = mask[k : k + out_f * (in_f + 1)].reshape(out_f, in_f + 1)[:, 1:]
        k += out_f * (in_f + 1)
        if hasattr(lin, "weight_mask"):
            tprune.remove(lin, "weight")
        tprune.custom_from_mask(lin, "weight", torch.as_tensor(m, dtype=torch.float32))


def set_flat_weights(model, flat: np.ndarray) -> None:
    torch = _torch()
    k = 0
    with torch.no_grad():
        for lin in linears(model):
            out_f, in_f = lin.weight.shape
            block = flat[k : k + out_f * (in_f + 1)].reshape(out_f, in_f + 1)
            k += out_f * (in_f + 1)
            lin.bias.copy_(torch.as_tensor(block[:, 0]))
            target = lin.weight_orig if hasattr(lin, "weight_orig") else lin.weight
            target.copy_(torch.as_tensor(block[:, 1:]))


def train(
    model,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    seed: int,
    budget: Budget,
    lr: float = 1e-3,
    batch_size: int = 64,
    on_epoch=None,
) -> None:
    torch = _torch()
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        t0 = time.process_time()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), batch_size):
            idx = perm[i : i + batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        budget.add(len(xt), 0, time.process_time() - t0)
        if on_epoch:
            on_epoch(epoch + 1)


def taylor_scores(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-connection E_examples |w * dL/dw| in the flat genome order (bias entries: |b dL/db|)."""
    torch = _torch()
    from torch.func import functional_call, grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss(p, xi, yi):
        out = functional_call(model, (p, buffers), (xi[None],))
        return torch.nn.functional.cross_entropy(out, yi[None])

    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    per_ex = vmap(grad(loss), in_dims=(None, 0, 0))(params, xt, yt)
    parts = []
    for lin in linears(model):
        idx = list(model).index(lin)
        wname = f"{idx}.weight_orig" if hasattr(lin, "weight_orig") else f"{idx}.weight"
        w = params[wname]
        gw = per_ex[wname]
        if hasattr(lin, "weight_mask"):
            w = w * lin.weight_mask
        sw = (w[None] * gw).abs().mean(0).numpy()
        sb = (params[f"{idx}.bias"][None] * per_ex[f"{idx}.bias"]).abs().mean(0).numpy()
        parts.append(np.concatenate([sb[:, None], sw], axis=1).ravel())
    return np.concatenate(parts)


def _network(task, hidden, model, method) -> WeightedNetwork:
    g = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.RELU, activations.LINEAR)
    mask = flat_mask(model)
    return WeightedNetwork(
        with_mask(g, mask), np.where(mask, flat_weights(model), 0.0), {"method": method, "hidden": hidden}
    )


def _accuracy(task, net: WeightedNetwork) -> dict[str, float]:
    return {"accuracy": float(task.accuracy(net.genome, conn_weights=net.weights, split="test"))}


def _checkpointing(task, hidden, model, method, epochs, out):
    marks = {max(1, round(f * epochs)): f for f in CHECKPOINTS}

    def on_epoch(e):
        if e in marks:
            out.append({"fraction": marks[e], "epochs": e, **_accuracy(task, _network(task, hidden, model, method))})

    return on_epoch


def train_dense(task, hidden: list[int], epochs: int, seed: int, method: str = "dense"):
    """Returns (TrainResult, model, initial flat weights)."""
    x, y = task.split("train")
    model = build_mlp(task.n_inputs, hidden, task.n_outputs, seed, x)
    init = flat_weights(model, fold=False)
    budget, ck = Budget(), []
    train(model, x, y, epochs, seed, budget, on_epoch=_checkpointing(task, hidden, model, method, epochs, ck))
    net = _network(task, hidden, model, method)
    return TrainResult(method, net, _accuracy(task, net), budget, ck, {"hidden": hidden, "epochs": epochs}), model, init


def prune(task, hidden, model, target: int, criterion: str, epochs: int, seed: int, rounds: int = 3):
    """Iteratively prune `model` (a trained dense MLP, modified in place) to `target` connections."""
    x, y = task.split("train")
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.RELU)
    layers = layer_ids(g0)
    bias_edges = np.array([c.source == 0 for c in g0.connections])
    mask = flat_mask(model)
    n0 = int(mask.sum())
    budget, ck = Budget(), []
    method = f"pruned_{criterion}"
    for r in range(1, rounds + 1):
        count = max(target, round(n0 * (target / n0) ** (r / rounds)))
        t0 = time.process_time()
        raw = np.abs(flat_weights(model, fold=False)) if criterion == "magnitude" else taylor_scores(model, x, y)
        scores = normalise_per_layer(raw, layers, mask)
        scores[bias_edges] = np.inf  # biases are kept (they count as connections, as in genomes)
        mask = prune_to(g0, mask, scores, count)
        apply_mask(model, mask)
        budget.add(0, 0, time.process_time() - t0)
        last = r == rounds
        train(
            model,
            x,
            y,
            epochs // rounds,
            seed + r,
            budget,
            on_epoch=_checkpointing(task, hidden, model, method, epochs // rounds, ck) if last else None,
        )
    net = _network(task, hidden, model, method)
    return TrainResult(method, net, _accuracy(task, net), budget, ck, {"target": target, "rounds": rounds}), mask


def retrain_masked(task, hidden, mask: np.ndarray, init: np.ndarray, epochs: int, seed: int, method: str):
    """Train the MLP restricted to `mask` from the flat initial weights `init`."""
    x, y = task.split("train")
    model = build_mlp(task.n_inputs, hidden, task.n_outputs, seed, x)
    set_flat_weights(model, init)
    apply_mask(model, mask)
    budget, ck = Budget(), []
    train(model, x, y, epochs, seed, budget, on_epoch=_checkpointing(task, hidden, model, method, epochs, ck))
    net = _network(task, hidden, model, method)
    return TrainResult(method, net, _accuracy(task, net), budget, ck)


def random_sparse(task, hidden, target: int, epochs: int, seed: int):
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.RELU)
    mask = random_mask(g0, target, seed, keep=np.array([c.source == 0 for c in g0.connections]))
    init = flat_weights(build_mlp(task.n_inputs, hidden, task.n_outputs, seed), fold=False)
    return retrain_masked(task, hidden, mask, init, epochs, seed, "random_sparse")
