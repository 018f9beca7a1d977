"""Draw a genome as a layered network (matplotlib only; no graphviz binary needed).

Columns are layers (longest path from an input over enabled connections); outputs sit in the
last column. Nodes show their activation name; disabled connections are not drawn.
"""

from __future__ import annotations

from pathlib import Path

from wann import activations
from wann.genome import BIAS, HIDDEN, INPUT, OUTPUT, Genome

COLORS = {BIAS: "#bbbbbb", INPUT: "#8ecae6", HIDDEN: "#ffb703", OUTPUT: "#fb8500"}


def layout(g: Genome) -> dict[int, tuple[float, float]]:
    """Node id -> (x, y) with x the layer and y spread evenly inside each layer."""
    level = g.layers()
    last = max(level.values()) + 1 if level else 1
    for o in g.output_ids:
        level[o] = last
    cols: dict[int, list[int]] = {}
    for n in g.nodes:
        cols.setdefault(level[n.id], []).append(n.id)
    pos = {}
    for x, ids in cols.items():
        k = len(ids)
        for i, nid in enumerate(ids):
            pos[nid] = (float(x), (k - 1) / 2.0 - i)
    return pos


def draw(g: Genome, path: str | Path, input_names: list[str] | None = None, title: str | None = None) -> Path:
    """Write a PNG drawing of `g` to `path` and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pos = layout(g)
    n_layers = int(max(x for x, _ in pos.values())) + 1
    height = max(len([1 for p in pos.values() if p[0] == x]) for x in range(n_layers))
    width = min(18.0, max(6.0, 0.9 * n_layers))
    crowded = height > 30  # e.g. 64 input pixels: lines without arrowheads, no per-node labels
    fig, ax = plt.subplots(figsize=(width, min(14.0, max(4.0, 0.75 * height + 1.5))))
    edges = [(pos[c.source], pos[c.destination]) for c in g.connections if c.enabled]
    if crowded:
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(edges, colors="#555555", linewidths=0.4, alpha=0.35))
    else:
        for (x0, y0), (x1, y1) in edges:
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "#555555",
                    "lw": 0.8,
                    "alpha": 0.6,
                    "shrinkA": 9,
                    "shrinkB": 9,
                },
            )
    names = input_names or [f"in{i}" for i in range(1, g.n_inputs + 1)]
    for n in g.nodes:
        x, y = pos[n.id]
        size = 18 if crowded else min(420, 9000 / n_layers)
        ax.scatter([x], [y], s=size, color=COLORS[n.kind], edgecolors="black", linewidths=0.5, zorder=3)
        if crowded and n.kind in (BIAS, INPUT, HIDDEN):
            continue
        if n.kind == BIAS:
            label = "bias"
        elif n.kind == INPUT:
            label = names[n.id - 1] if n.id - 1 < len(names) else f"in{n.id}"
        else:
            label = activations.NAMES[n.activation]
        ax.text(x, y - 0.2, label, ha="center", va="top", fontsize=7 if n_layers < 16 else 6, zorder=4)
    if crowded:
        ax.autoscale()
    ax.set_axis_off()
    meta = g.meta
    ax.set_title(
        title
        or f"{g.n_connections} connections, {len(g.hidden)} hidden nodes"
        + (f", fitness {meta['fitness']:.1f}" if "fitness" in meta else ""),
        fontsize=10,
    )
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
