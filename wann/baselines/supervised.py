"""Trained counterparts on classification tasks (torch, CPU): the Adam recipe, scored by the
project's own evaluator after conversion to a `WeightedNetwork`.

Dense: an MLP (ReLU hidden, linear outputs, softmax cross-entropy) trained with Adam. Budget: a
number of training examples, ``epochs x`` the training split, met exactly (minibatches of 64 over
reshuffled epochs, the batch that crosses a checkpoint or the end trimmed); checkpoints at 10, 25,
50 and 100 % of it (accuracy from torch on the test split; the final score from the project's
evaluator). CPU-seconds: `time.process_time` around the training steps and the pruning scores
(checkpoint scoring not charged; `info["cpu_s_recipe"]` has the whole call). The dense parent
(`train_parent`) keeps its initial weights and its weights after `REWIND_FRACTION` of training,
which the tickets rewind to, and snapshots after fractions of its training (`Parent.snapshots`),
which the timed pruned nets start from. Initial weights follow an init scheme
(`wann.baselines.inits`; ``default`` is PyTorch's own, unchanged).

The pruned nets, tickets and random sparse nets made from it live in
`wann.baselines.supervised_pruning`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from wann import activations
from wann.baselines.cmaes import Every, Progress
from wann.baselines.common import CHECKPOINTS, Budget, TrainResult
from wann.baselines.inits import check_scheme, torch_init_linear
from wann.weighted import WeightedNetwork, live_mask, mlp_genome, with_mask

#: late rewinding: the weights after this fraction of the dense net's training budget
REWIND_FRACTION = 0.05


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


def build_mlp(
    n_in: int,
    hidden: list[int],
    n_out: int,
    seed: int,
    x_train: np.ndarray | None = None,
    init: str = "default",
    init_seed: int | None = None,
):
    """MLP whose first module standardises the inputs with the training split's mean and SD (a
    fixed buffer, folded into the first layer when converted to a genome).

    Initial weights by the scheme `init` (`wann.baselines.inits`): ``default`` is PyTorch's
    `nn.Linear` default after ``torch.manual_seed(init_seed)``; ``he``: each layer's weight
    (out, in) ~ N(0, 2/in), biases 0; ``uniform2``: weights and biases ~ U(-2, 2), layer by
    layer (weight then bias) from a ``torch.Generator`` seeded with `init_seed`. `init_seed`
    None means `seed` (so the default scheme is exactly the init before schemes existed)."""
    check_scheme(init)
    torch = _torch()
    init_seed = int(seed) if init_seed is None else int(init_seed)
    torch.manual_seed(init_seed)
    mu = np.zeros(n_in) if x_train is None else x_train.mean(axis=0)
    sd = np.ones(n_in) if x_train is None else x_train.std(axis=0)
    sd = np.where(sd < 1e-8, 1.0, sd)
    layers, prev = [Standardize(mu, sd)], n_in
    for h in hidden:
        layers += [torch.nn.Linear(prev, h), torch.nn.ReLU()]
        prev = h
    layers.append(torch.nn.Linear(prev, n_out))
    model = torch.nn.Sequential(*layers)
    if init != "default":
        g = torch.Generator().manual_seed(init_seed)
        for lin in linears(model):
            torch_init_linear(lin, init, g)
    return model


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


def _network(task, hidden, model, method) -> WeightedNetwork:
    g = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.RELU, activations.LINEAR)
    mask = live_mask(g, flat_mask(model))  # torch keeps every bias: a dead unit's bias is dropped here
    return WeightedNetwork(
        with_mask(g, mask), np.where(mask, flat_weights(model), 0.0), {"method": method, "hidden": hidden}
    )


def _accuracy(task, net: WeightedNetwork) -> dict[str, float]:
    return {"accuracy": float(task.accuracy(net.genome, conn_weights=net.weights, split="test"))}


def train_examples(
    model,
    x: np.ndarray,
    y: np.ndarray,
    examples: int,
    seed: int,
    budget: Budget,
    lr: float = 1e-3,
    batch_size: int = 64,
    cuts=(),
    on_cut=None,
    progress: Progress | None = None,
    label: str = "adam",
) -> None:
    """Adam on minibatches of `batch_size` over reshuffled epochs for exactly `examples`
    training examples; the batch that would cross one of `cuts` (example counts) or the end is
    trimmed, and `on_cut(n)` is called after n examples for each cut n (its time not charged).
    progress: a message (examples, epochs, the last minibatch's loss) at most every
    `cmaes.PROGRESS_EVERY_S` seconds."""
    torch = _torch()
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    stops = sorted({int(c) for c in cuts if 0 < c <= examples})
    done, perm, pos = 0, torch.randperm(len(xt), generator=g), 0
    t0 = time.process_time()
    tick = Every()
    while done < examples:
        if pos >= len(xt):
            perm, pos = torch.randperm(len(xt), generator=g), 0
        nxt = min([c for c in stops if c > done] + [examples])
        n = min(batch_size, len(xt) - pos, nxt - done)
        idx = perm[pos : pos + n]
        pos += n
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        done += n
        if progress and tick():
            progress(
                f"{label}: {done}/{examples} examples (epoch {done / len(xt):.1f} of {examples / len(xt):g}), "
                f"minibatch loss {float(loss.detach()):.3f}"
            )
        if done in stops and on_cut:
            budget.add(0, 0, time.process_time() - t0)
            on_cut(done)
            t0 = time.process_time()
    budget.add(examples, 0, time.process_time() - t0)


def torch_accuracy(task, model) -> float:
    """Test-split accuracy of the torch model (checkpoints; the final score uses the evaluator)."""
    torch = _torch()
    x, y = task.split("test")
    with torch.no_grad():
        pred = model(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy()
    return float((pred == y).mean())


def _checkpointing(
    task, model, total: int, offset: int, n_train: int, out: list, progress: Progress | None = None, label: str = ""
):
    """Checkpoint marks of a `total`-example budget falling in this stage (which starts after
    `offset` examples): (cuts local to the stage, on_cut callback; `progress`: one message per
    checkpoint)."""
    marks: dict[int, list[float]] = {}
    for f in CHECKPOINTS:
        m = max(1, round(f * total))
        if offset < m <= total:
            marks.setdefault(m - offset, []).append(f)

    def on_cut(n):
        for f in marks.get(n, ()):
            acc = torch_accuracy(task, model)
            out.append({"fraction": f, "episodes": offset + n, "epochs": (offset + n) / n_train, "accuracy": acc})
            if progress:
                progress(f"{label or 'adam'}: {f:.0%} of {total} examples, test accuracy {acc:.4f}")

    return list(marks), on_cut


#: default fractions of the parent's training at which `train_parent` keeps its weights (the
#: prune times of the timed methods; they coincide with checkpoint cuts, so keeping them changes
#: no minibatch)
SNAPSHOT_FRACTIONS = (0.1, 0.25, 0.5)


@dataclass
class Parent:
    """A trained dense parent: its result, the trained torch model, its initial flat weights, its
    flat weights after `REWIND_FRACTION` of training, and `snapshots`: fraction f of the
    training examples -> flat weights after them (0.0: the init, 1.0: the final weights). Every
    flat vector is unfolded (raw trainable values), shape (C,) in the genome connection order."""

    result: TrainResult
    model: object
    init: np.ndarray
    early: np.ndarray
    snapshots: dict[float, np.ndarray] = field(default_factory=dict)


def train_parent(
    task,
    hidden: list[int],
    epochs: int,
    seed: int,
    method: str = "dense",
    init: str = "default",
    init_seed: int | None = None,
    snapshot_fractions=SNAPSHOT_FRACTIONS,
    progress: Progress | None = None,
) -> Parent:
    """The dense MLP (`build_mlp` with `init`, `init_seed`) trained with Adam for exactly
    ``epochs x n_train`` examples (minibatch order from `seed`). Its weights are kept after each
    fraction f of `snapshot_fractions` of the examples (after ``max(1, round(f x total))``, the
    rule of the checkpoints; a batch crossing such a cut is trimmed, as at a checkpoint, so a
    fraction that is not a checkpoint fraction changes the minibatches). progress: messages
    during training (at most every few seconds, and at each checkpoint)."""
    p0 = time.process_time()
    x, y = task.split("train")
    model = build_mlp(task.n_inputs, hidden, task.n_outputs, seed, x, init=init, init_seed=init_seed)
    init_w = flat_weights(model, fold=False)
    total = int(epochs) * len(x)
    budget, ck = Budget(), []
    cuts, on_cut = _checkpointing(task, model, total, 0, len(x), ck, progress, method)
    early_at = max(1, round(REWIND_FRACTION * total))
    early = {}
    snap_at: dict[int, list[float]] = {}
    for f in snapshot_fractions:
        f = float(f)
        if not 0.0 < f <= 1.0:
            raise ValueError(f"snapshot fractions must be in (0, 1], got {f}")
        snap_at.setdefault(max(1, round(f * total)), []).append(f)
    snapshots: dict[float, np.ndarray] = {0.0: init_w}

    def cut(n):
        if n == early_at:
            early["w"] = flat_weights(model, fold=False)
        for f in snap_at.get(n, ()):
            snapshots[f] = flat_weights(model, fold=False)
        on_cut(n)

    train_examples(
        model, x, y, total, seed, budget, cuts=[*cuts, early_at, *snap_at], on_cut=cut, progress=progress, label=method
    )
    snapshots[1.0] = flat_weights(model, fold=False)
    for fs in snap_at.values():  # a cut past the end (no examples at all): the final weights
        for f in fs:
            snapshots.setdefault(f, snapshots[1.0])
    net = _network(task, hidden, model, method)
    info = {
        "hidden": hidden,
        "epochs": epochs,
        "rewind_examples": early_at,
        "budget_unit": "examples",
        "init": init,
        "init_seed": int(seed) if init_seed is None else int(init_seed),
    }
    res = TrainResult(method, net, _accuracy(task, net), budget, ck, info)
    res.info["cpu_s_recipe"] = time.process_time() - p0
    return Parent(res, model, init_w, early.get("w", init_w), dict(sorted(snapshots.items())))


def train_dense(
    task,
    hidden: list[int],
    epochs: int,
    seed: int,
    method: str = "dense",
    init: str = "default",
    init_seed: int | None = None,
    progress: Progress | None = None,
):
    """Returns (TrainResult, model, initial flat weights); `init`, `init_seed`, `progress` as in
    `train_parent` (recorded in the result's info)."""
    p = train_parent(task, hidden, epochs, seed, method, init=init, init_seed=init_seed, progress=progress)
    return p.result, p.model, p.init
