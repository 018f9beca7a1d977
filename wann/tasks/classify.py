"""Classification data sets that ship inside scikit-learn, as WANN tasks (`ClassifyTask`).

Data sets: ``digits`` (8x8 images, 1,797 samples, 10 classes: the offline stand-in for the
paper's MNIST), and the tabular ``wine`` (178 x 13, 3 classes), ``breast_cancer`` (569 x 30,
2 classes) and ``iris`` (150 x 4, 3 classes). scikit-learn only provides the arrays; the split
and the scaling are done here with numpy.

- Split: stratified and deterministic: within each class the samples are permuted by
  ``numpy.random.default_rng(split_seed)`` (classes in ascending order) and the first
  ``round(test_fraction * n_class)`` go to the test split. The search never sees the test split.
- Inputs: digits pixel / 16; tabular features standardised with the training split's mean and
  standard deviation (a constant feature gets sd 1).
- Outputs: one per class, through a softmax.
- Fitness ("episode"): one minibatch. For rollout seed s, ``batch_size`` training samples are
  drawn without replacement by ``default_rng(s)`` (all of them when batch_size equals the train
  split), the same for every genome and weight (common random numbers); the return is
  -(mean cross-entropy, natural log) over the batch and the step count is the batch size.
- Vectorisation: the rows x samples of a call go through `wann.network.forward` at once (rows
  repeated once per sample), in chunks of rows that bound the memory of the repeated inputs.
- Hidden nodes may not use the step function (`activations.NO_STEP`).

`accuracy` and `ensemble_accuracy` score a genome on the held-out test split for
``wann evaluate``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from wann import activations
from wann.errors import ConfigError
from wann.genome import Genome
from wann.network import CompiledBatch, compile_genomes, edge_weights_from_connections, forward
from wann.tasks.base import Task, TaskKind

#: name -> scikit-learn loader (in sklearn.datasets)
DATASETS: dict[str, str] = {
    "digits": "load_digits",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "iris": "load_iris",
}
#: options of a classification task (the experiment's [task] table)
OPTIONS = ("test_fraction", "split_seed", "batch_size")
#: data sets whose inputs are images (scaled by their maximum, not standardised)
IMAGE_SCALE = {"digits": 16.0}
#: bound on floats in the repeated inputs of one forward call (rows x samples x inputs)
CHUNK_FLOATS = 1 << 22


@functools.cache
def load(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The raw data set: (X (n, d) float64, y (n,) int64 class ids 0..C-1, feature names)."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, DATASETS[name])()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    names = tuple(str(n) for n in getattr(bunch, "feature_names", [])) or tuple(f"x{i}" for i in range(X.shape[1]))
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y, names


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices), each sorted. Every class keeps at least one sample on each
    side when it has two or more."""
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(test_fraction * len(idx)))
        if len(idx) >= 2:
            n_test = min(max(n_test, 1), len(idx) - 1)
        test.append(idx[:n_test])
    test_idx = np.sort(np.concatenate(test)) if test else np.zeros(0, dtype=np.int64)
    train_mask = np.ones(len(y), dtype=bool)
    train_mask[test_idx] = False
    return np.flatnonzero(train_mask), test_idx


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log softmax of (..., C) logits; NaN counts as 0, infinities as +-1e30."""
    z = np.nan_to_num(np.asarray(logits, dtype=np.float64), nan=0.0, posinf=1e30, neginf=-1e30)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


@njit(cache=True)
def _mean_log_prob(out, labels, B):
    """Per consecutive group of B rows of `out` (logits, rows x C): the mean log softmax
    probability of the row's label. Same conventions as `log_softmax`."""
    n, C = out.shape
    res = np.zeros(n // B)
    z = np.empty(C)
    for i in range(n):
        m = -np.inf
        for c in range(C):
            v = out[i, c]
            if v != v:
                v = 0.0
            elif v > 1e30:
                v = 1e30
            elif v < -1e30:
                v = -1e30
            z[c] = v
            m = max(m, v)
        s = 0.0
        for c in range(C):
            s += np.exp(z[c] - m)
        res[i // B] += z[labels[i]] - m - np.log(s)
    return res / B


@dataclass(eq=False)
class ClassifyTask(Task):
    """A classification data set (see the module docstring). Arrays are the scaled splits."""

    dataset: str = ""
    test_fraction: float = 0.3
    split_seed: int = 0
    batch_size: int = 1
    n_classes: int = 2
    train_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    test_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    x_train: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    y_train: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    x_test: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    y_test: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    # ---- search fitness ---------------------------------------------------------------------

    def batch_indices(self, seed: int) -> np.ndarray:
        """Indices into the training split of the minibatch of rollout seed `seed`."""
        n = len(self.y_train)
        if self.batch_size >= n:
            return np.arange(n)
        return np.sort(np.random.default_rng(int(seed)).choice(n, self.batch_size, replace=False))

    def run_episodes(
        self,
        batch: CompiledBatch,
        row_genome: np.ndarray,
        row_weight: np.ndarray,
        row_seed: np.ndarray,
        row_edge_weights: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        row_genome, row_weight, row_seed = self.episode_rows(row_genome, row_weight, row_seed)
        R = len(row_genome)
        uniq, which = np.unique(row_seed, return_inverse=True)
        samples = np.stack([self.batch_indices(s) for s in uniq]) if R else np.zeros((0, 0), dtype=np.int64)
        B = samples.shape[1] if R else 0
        ret = np.zeros(R)
        for a, b in self._chunks(R, B, row_edge_weights):
            idx = samples[which[a:b]]  # (rows, B) training indices
            rows = b - a
            ew = None if row_edge_weights is None else np.repeat(np.asarray(row_edge_weights[a:b], float), B, axis=0)
            out = forward(
                batch,
                np.repeat(row_genome[a:b], B),
                self.x_train[idx].reshape(rows * B, -1),
                np.repeat(row_weight[a:b], B),
                ew,
            )
            ret[a:b] = _mean_log_prob(out, self.y_train[idx].reshape(-1), B)  # -(mean cross-entropy)
        return ret, np.full(R, B, dtype=np.int64)

    def _chunks(self, R: int, B: int, edge_weights) -> list[tuple[int, int]]:
        per_row = max(1, B * (self.n_inputs + (0 if edge_weights is None else np.shape(edge_weights)[1])))
        step = max(1, CHUNK_FLOATS // per_row)
        return [(a, min(R, a + step)) for a in range(0, R, step)]

    def _log_probs(self, batch, row_genome, row_weight, x, edge_weights) -> np.ndarray:
        """x (rows, B, n_inputs) -> log softmax of the outputs (rows, B, n_classes)."""
        rows, B = x.shape[:2]
        ew = None if edge_weights is None else np.repeat(np.asarray(edge_weights, dtype=np.float64), B, axis=0)
        out = forward(batch, np.repeat(row_genome, B), x.reshape(rows * B, -1), np.repeat(row_weight, B), ew)
        return log_softmax(out).reshape(rows, B, -1)

    # ---- assessment on a split --------------------------------------------------------------

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        if which == "test":
            return self.x_test, self.y_test
        if which == "train":
            return self.x_train, self.y_train
        raise ValueError(f"split must be 'train' or 'test', got {which!r}")

    def log_probs(
        self,
        genome: Genome,
        weights: np.ndarray | None = None,
        conn_weights: np.ndarray | None = None,
        split: str = "test",
    ) -> np.ndarray:
        """Log class probabilities of `genome` on every sample of a split: (K, N, n_classes) for K
        shared weights (weights (K,)) or K individual weight vectors (conn_weights (K,
        n_connections), in `genome.connections` order)."""
        x, _ = self.split(split)
        batch = compile_genomes([genome])
        if conn_weights is not None:
            ew = edge_weights_from_connections(batch, 0, np.atleast_2d(conn_weights))
            if ew.shape[1] == 0:
                ew = np.zeros((ew.shape[0], 1))
            K = ew.shape[0]
            w = np.zeros(K)
        else:
            w = np.atleast_1d(np.asarray(weights, dtype=np.float64))
            K, ew = len(w), None
        out = np.empty((K, len(x), self.n_classes))
        for a, b in self._chunks(K, len(x), ew):
            xs = np.broadcast_to(x, (b - a, *x.shape))
            out[a:b] = self._log_probs(
                batch, np.zeros(b - a, dtype=np.int64), w[a:b], xs, None if ew is None else ew[a:b]
            )
        return out

    def accuracy(
        self,
        genome: Genome,
        weight: float | np.ndarray | None = None,
        conn_weights: np.ndarray | None = None,
        split: str = "test",
    ) -> np.ndarray | float:
        """Accuracy (argmax, ties to the lowest class) on a split, at one shared weight or one
        individual weight vector (a float), or at several (an array, one per weight / row)."""
        _, y = self.split(split)
        if conn_weights is None and weight is None:
            raise ValueError("give a shared weight or individual connection weights")
        single = np.ndim(conn_weights) == 1 if conn_weights is not None else np.ndim(weight) == 0
        lp = self.log_probs(genome, weight, conn_weights, split)
        acc = (lp.argmax(axis=2) == y[None, :]).mean(axis=1)
        return float(acc[0]) if single else acc

    def cross_entropy(self, genome: Genome, weights, split: str = "test") -> np.ndarray:
        """Mean cross-entropy on a split for each shared weight in `weights`: (K,)."""
        _, y = self.split(split)
        lp = self.log_probs(genome, weights, None, split)
        return -np.take_along_axis(lp, np.broadcast_to(y[None, :, None], (lp.shape[0], len(y), 1)), axis=2).mean(
            axis=(1, 2)
        )

    def ensemble_accuracy(self, genome: Genome, weights, split: str = "test") -> float:
        """Accuracy of the weight ensemble: softmax outputs averaged over the shared values in
        `weights`, then argmax."""
        _, y = self.split(split)
        p = np.exp(self.log_probs(genome, np.asarray(weights, dtype=np.float64), None, split)).mean(axis=0)
        return float((p.argmax(axis=1) == y).mean())


def make_classify_task(
    name: str, test_fraction: float = 0.3, split_seed: int = 0, batch_size: int | None = None
) -> ClassifyTask:
    """Build the classification task `name` (one of `DATASETS`)."""
    if name not in DATASETS:
        raise ConfigError("task.name", f"unknown data set {name!r}; supported: {', '.join(DATASETS)}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ConfigError("task.test_fraction", f"must be a number in (0, 1), got {test_fraction!r}")
    if isinstance(split_seed, bool) or not isinstance(split_seed, int) or split_seed < 0:
        raise ConfigError("task.split_seed", f"must be a non-negative integer, got {split_seed!r}")
    X, y, names = load(name)
    train_idx, test_idx = stratified_split(y, float(test_fraction), split_seed)
    n_train = len(train_idx)
    if batch_size is None:
        batch_size = min(1000, n_train)
    elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= n_train:
        raise ConfigError(
            "task.batch_size",
            f"must be an integer in [1, {n_train}] (the training split of {name}), got {batch_size!r}",
        )
    if name in IMAGE_SCALE:
        Xs = X / IMAGE_SCALE[name]
    else:
        mu = X[train_idx].mean(axis=0)
        sd = X[train_idx].std(axis=0)
        sd[sd == 0] = 1.0
        Xs = (X - mu) / sd
    n_classes = int(y.max()) + 1
    options = {"test_fraction": float(test_fraction), "split_seed": split_seed, "batch_size": batch_size}
    return ClassifyTask(
        name,
        X.shape[1],
        n_classes,
        batch_size,
        options,
        hidden_activations=activations.NO_STEP,
        input_names=names,
        kind=TaskKind.CLASSIFY,
        dataset=name,
        test_fraction=float(test_fraction),
        split_seed=split_seed,
        batch_size=batch_size,
        n_classes=n_classes,
        train_idx=train_idx,
        test_idx=test_idx,
        x_train=np.ascontiguousarray(Xs[train_idx]),
        y_train=y[train_idx],
        x_test=np.ascontiguousarray(Xs[test_idx]),
        y_test=y[test_idx],
    )
