"""The individual weights of any genome (a WANN topology) trained with the classification
counterparts' Adam recipe, so that on a classification task every trained method shares one
optimiser and only the structure differs.

The recipe is not copied: training runs through `wann.baselines.supervised.train_examples`
itself (Adam, learning rate 1e-3, minibatches of 64 over epochs reshuffled by ``torch.randperm``
from a generator seeded with `seed`, mean softmax cross-entropy, exactly ``epochs x n_train``
examples, the batch that crosses a checkpoint trimmed; examples seen and CPU-seconds in the
`Budget`), with its checkpoints (`supervised._checkpointing`: test accuracy at 10, 25, 50 and
100 % of the examples, checkpoint scoring not charged), on a torch module whose forward pass is
`wann.measures.torch_net` (tested equal to the project's evaluator): one float64 parameter per
connection of the genome, the output through the evaluator's log softmax (non-finite logits
treated as it treats them). The final score is the test accuracy by the task's evaluator
(`supervised._accuracy`).

- `tune_wann_adam`: every connection starts at the champion's best shared weight, chosen on
  the training split as `wann.measures.assess` chooses it (highest training accuracy over the
  grid -2..2 step 0.1 plus the search values, ties to the lower training cross-entropy); that
  choice is the assessed `wann_best_shared` row's, so the grid's forward passes are recorded in
  ``info["selection_examples"]`` (and their CPU-seconds in the budget), not counted as training
  examples.
- `retrain_topology_adam`: fresh random weights by the dense nets' rule, PyTorch's
  `nn.Linear` default: a connection into a node with fan-in n (its enabled non-bias incoming
  connections) ~ U(-1/sqrt(n), 1/sqrt(n)), its bias edge the same (bound 1 when n = 0), drawn
  from a torch generator seeded with `seed`; disabled connections 0. Other init schemes
  (`wann.baselines.inits`: ``he``, ``uniform2``) and replicate init seeds are passed through.

Differences from the dense nets that the structure imposes: the genome reads the task's
inputs as the search saw them (digits: pixel / 16; tabular: standardised by the task), while an
MLP standardises its inputs with a fixed first module; the arithmetic is float64 (torch_net)
rather than float32.
"""

from __future__ import annotations

import time

import numpy as np

from wann.baselines.cmaes import Progress
from wann.baselines.common import Budget, TrainResult
from wann.baselines.inits import genome_init
from wann.baselines.supervised import _accuracy, _checkpointing, train_examples
from wann.genome import BIAS, Genome
from wann.measures import torch_net
from wann.weighted import WeightedNetwork


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


def genome_module(genome: Genome, weights: np.ndarray):
    """A torch module with one float64 parameter ``w`` (C,) per connection of `genome`, started
    at `weights`; its forward maps inputs (N, n_inputs) to the evaluator's log class
    probabilities (N, n_outputs)."""
    torch = _torch()
    plan = torch_net._plan(genome)

    class _GenomeNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.as_tensor(np.asarray(weights, dtype=np.float64)).clone())

        def forward(self, x):
            return torch_net._log_softmax(torch, torch_net._run_plan(plan, self.w, x.to(torch.float64)))

    return _GenomeNet()


def init_weights(genome: Genome, seed: int) -> np.ndarray:
    """The dense nets' initialisation (PyTorch `nn.Linear` default) on any genome: each enabled
    connection into a node of fan-in n (enabled incoming connections not from the bias node)
    ~ U(-1/sqrt(n), 1/sqrt(n)), bias edges included (bound 1 when n = 0); disabled ones 0."""
    torch = _torch()
    bias = {n.id for n in genome.nodes if n.kind == BIAS}
    fan_in: dict[int, int] = {}
    for c in genome.connections:
        if c.enabled and c.source not in bias:
            fan_in[c.destination] = fan_in.get(c.destination, 0) + 1
    bound = np.array([1.0 / np.sqrt(fan_in.get(c.destination, 0) or 1) for c in genome.connections])
    g = torch.Generator().manual_seed(int(seed))
    u = torch.rand(len(genome.connections), generator=g, dtype=torch.float64).numpy()
    enabled = np.array([c.enabled for c in genome.connections], dtype=bool)
    return np.where(enabled, (2.0 * u - 1.0) * bound, 0.0)


def best_shared_weight(task, genome: Genome) -> tuple[float, int]:
    """The shared weight `wann.measures.assess` chooses for a classification genome (highest
    training-split accuracy over its grid, ties to the lower training cross-entropy), and the
    examples its forward passes saw (grid size x training examples, accuracy and cross-entropy)."""
    from wann.measures.assess import _search_values, weight_grid
    from wann.seeds import DEFAULT_SHARED_WEIGHTS

    grid = weight_grid(_search_values(genome.meta.get("shared_weights", DEFAULT_SHARED_WEIGHTS)))
    acc = task.accuracy(genome, grid, split="train")
    ce = task.cross_entropy(genome, grid, split="train")
    return float(grid[int(np.lexsort((ce, -acc))[0])]), 2 * len(grid) * len(task.split("train")[1])


def train_genome(
    task,
    genome: Genome,
    w0: np.ndarray,
    epochs: int,
    seed: int,
    method: str,
    budget: Budget | None = None,
    info: dict | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train every connection weight of `genome` from `w0` (C,) with `supervised.train_examples`
    (the dense nets' Adam recipe) for exactly ``epochs x n_train`` examples; checkpoints
    (`supervised._checkpointing`) and score as the dense nets'; progress: the training's
    messages."""
    p0 = time.process_time()
    x, y = task.split("train")
    model = genome_module(genome, w0)
    budget = budget or Budget()
    total = int(epochs) * len(x)
    ck: list[dict] = []
    cuts, on_cut = _checkpointing(task, model, total, 0, len(x), ck, progress, method)
    train_examples(model, x, y, total, seed, budget, cuts=cuts, on_cut=on_cut, progress=progress, label=method)
    w = model.w.detach().numpy().astype(np.float64).copy()
    net = WeightedNetwork(genome, w, {"method": method})
    res = TrainResult(
        method, net, _accuracy(task, net), budget, ck, {"epochs": epochs, "budget_unit": "examples", **(info or {})}
    )
    res.info["cpu_s_recipe"] = time.process_time() - p0
    return res


def tune_wann_adam(task, champion: Genome, epochs: int, seed: int, progress: Progress | None = None) -> TrainResult:
    """The champion's individual weights trained by Adam from its best shared weight on every
    connection, chosen on the training split as the assessment chooses it. The choice is the
    assessment's (`wann_best_shared`, not a training cost): its forward passes are recorded in
    ``info["selection_examples"]`` and their CPU-seconds in the budget, while the budget's
    examples are the training's alone, ``epochs x n_train`` as for every Adam counterpart."""
    t0 = time.process_time()
    w, examples = best_shared_weight(task, champion)
    budget = Budget()
    budget.add(0, 0, time.process_time() - t0)
    r = train_genome(
        task,
        champion,
        np.full(len(champion.connections), w),
        epochs,
        seed,
        "wann_tuned",
        budget,
        {"from_shared": w, "selection_examples": examples, "optimiser": "adam"},
        progress,
    )
    r.network.meta["from_shared"] = w
    return r


def retrain_topology_adam(
    task,
    champion: Genome,
    epochs: int,
    seed: int,
    init: str = "default",
    init_seed: int | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """The champion's topology from fresh random weights, trained by Adam: is the graph a good
    ticket under the same optimiser? Initial weights by the scheme `init`
    (`wann.baselines.inits.genome_init`; ``default``: the dense nets' rule, `init_weights`)
    drawn from `init_seed` (None meaning `seed`); the minibatch order comes from `seed`."""
    s0 = int(seed) if init_seed is None else int(init_seed)
    w0 = genome_init(champion, init, s0, default=lambda: init_weights(champion, s0))
    return train_genome(
        task,
        champion,
        w0,
        epochs,
        seed,
        "wann_retrained",
        info={"optimiser": "adam", "init": init, "init_seed": s0},
        progress=progress,
    )


__all__ = [
    "best_shared_weight",
    "genome_module",
    "init_weights",
    "retrain_topology_adam",
    "train_genome",
    "tune_wann_adam",
]
