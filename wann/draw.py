"""Draw a genome (or a network with its own weights) as a layered graph (matplotlib only; no
graphviz binary needed).

Columns are layers (longest path from an input over enabled connections); outputs sit in the
last column. Inside each hidden column the nodes are ordered to reduce edge crossings: a few
sweeps that sort each column by the median height of its neighbours (a barycentre heuristic),
down from the inputs and back up from the outputs, keeping the ordering with the fewest
crossings (`crossings`). Inputs and outputs keep their id order, so drawings of one task read
alike.

Image-like tasks (input names ``pixel_R_C``, as scikit-learn's digits, or an explicit
``input_shape``) draw their inputs as a grid of pixels in place of the input column, coloured
by how many live connections leave each pixel (white: unused): the used-input pattern at a
glance. Nodes show their activation name; disabled connections are not drawn; connections off
every input -> output path are drawn faint. With ``weights`` (one per connection, a trained
network) edge colour is the weight's sign and size (blue negative, red positive) and edge width
its magnitude.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from wann import activations
from wann.genome import BIAS, HIDDEN, INPUT, OUTPUT, Genome

COLORS = {BIAS: "#bbbbbb", INPUT: "#8ecae6", HIDDEN: "#ffb703", OUTPUT: "#fb8500"}
#: barycentre sweeps (one down and one up each) of the crossing reduction
SWEEPS = 4
#: a column taller than this is drawn without arrowheads or hidden-node labels
CROWDED = 30
_PIXEL = re.compile(r"pixel_(\d+)_(\d+)$")


def input_grid_shape(names, n_inputs: int) -> tuple[int, int] | None:
    """(rows, columns) when the input names are ``pixel_R_C`` covering a full image in row-major
    order (scikit-learn's digits: 8 x 8), else None."""
    if not names or len(names) != n_inputs:
        return None
    cells = [_PIXEL.match(str(n)) for n in names]
    if not all(cells):
        return None
    rc = [(int(m.group(1)), int(m.group(2))) for m in cells]
    rows, cols = max(r for r, _ in rc) + 1, max(c for _, c in rc) + 1
    if rows * cols != n_inputs or rc != [(r, c) for r in range(rows) for c in range(cols)]:
        return None
    return rows, cols


def levels(g: Genome) -> dict[int, int]:
    """Node id -> column: its layer (`Genome.layers`), outputs all in the last column."""
    level = g.layers()
    last = max(level.values()) + 1 if level else 1
    for o in g.output_ids:
        level[o] = last
    return level


def _neighbours(g: Genome) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Enabled, non-bias connections as predecessor and successor lists."""
    pred: dict[int, list[int]] = {n.id: [] for n in g.nodes}
    succ: dict[int, list[int]] = {n.id: [] for n in g.nodes}
    for c in g.connections:
        if c.enabled and c.source != 0:
            pred[c.destination].append(c.source)
            succ[c.source].append(c.destination)
    return pred, succ


def _live_edges(g: Genome) -> np.ndarray:
    """(C,) bool: enabled connections whose destination reaches an output (and, but for bias
    edges, whose source an input reaches): the ones that can change the outputs."""
    pred, succ = _neighbours(g)

    def closure(start, edges):
        seen, stack = set(start), list(start)
        while stack:
            for m in edges[stack.pop()]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        return seen

    from_in = closure(range(1, g.n_inputs + 1), succ)
    to_out = closure(g.output_ids, pred)
    on_path = from_in & to_out
    return np.array(
        [c.enabled and c.destination in on_path and (c.source == 0 or c.source in from_in) for c in g.connections],
        dtype=bool,
    )


def _segments(g: Genome, pos: dict[int, tuple[float, float]]) -> np.ndarray:
    """(E, 4) x0, y0, x1, y1 of the enabled non-bias connections."""
    seg = [(*pos[c.source], *pos[c.destination]) for c in g.connections if c.enabled and c.source != 0]
    return np.asarray(seg, dtype=np.float64).reshape(-1, 4)


def crossings(g: Genome, pos: dict[int, tuple[float, float]]) -> int:
    """How many pairs of drawn (enabled, non-bias) connections cross properly (sharing an end
    or touching is no crossing)."""
    s = _segments(g, pos)
    total = 0
    for a in range(0, len(s), 512):  # blocks bound the (block x E) arrays
        p, q = s[a : a + 512, None, :], s[None, :, :]

        def orient(ax, ay, bx, by, cx, cy):
            return np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))

        o1 = orient(p[..., 0], p[..., 1], p[..., 2], p[..., 3], q[..., 0], q[..., 1])
        o2 = orient(p[..., 0], p[..., 1], p[..., 2], p[..., 3], q[..., 2], q[..., 3])
        o3 = orient(q[..., 0], q[..., 1], q[..., 2], q[..., 3], p[..., 0], p[..., 1])
        o4 = orient(q[..., 0], q[..., 1], q[..., 2], q[..., 3], p[..., 2], p[..., 3])
        total += int(((o1 * o2 < 0) & (o3 * o4 < 0)).sum())
    return total // 2


def _grid_positions(g: Genome, shape: tuple[int, int], step: tuple[float, float]):
    """Input pixel (r, c) in a grid of cells `step` (dx, dy) ending at x = 0.2 (column 0 is
    empty then), centred on y = 0; the bias node below it (under the grid's colour bar)."""
    rows, cols = shape
    dx, dy = step
    pos = {}
    for i in range(g.n_inputs):
        r, c = divmod(i, cols)
        pos[i + 1] = (0.2 - (cols - c - 0.5) * dx, (rows - 1) / 2.0 * dy - r * dy)
    pos[0] = (0.2 - cols / 2.0 * dx, -(rows / 2.0 + 2.6) * dy)
    return pos


def layout(
    g: Genome,
    input_shape: tuple[int, int] | None = None,
    grid_step: tuple[float, float] = (0.12, 1.0),
    sweeps: int = SWEEPS,
) -> dict[int, tuple[float, float]]:
    """Node id -> (x, y): x the column (`levels`), y spread evenly inside each column, hidden
    columns ordered by median-barycentre sweeps (`sweeps` = 0: id order). With `input_shape` the inputs
    form a grid left of column 1 (cell size `grid_step` in data units) instead of column 0."""
    level = levels(g)
    grid = input_shape is not None
    cols: dict[int, list[int]] = {}
    for n in g.nodes:
        if grid and n.kind in (BIAS, INPUT):
            continue
        cols.setdefault(level[n.id], []).append(n.id)

    def place(order: dict[int, list[int]]) -> dict[int, tuple[float, float]]:
        pos = _grid_positions(g, input_shape, grid_step) if grid else {}
        for x, ids in order.items():
            k = len(ids)
            for i, nid in enumerate(ids):
                pos[nid] = (float(x), (k - 1) / 2.0 - i)
        return pos

    pos = place(cols)
    if sweeps <= 0 or len(cols) < 3:
        return pos
    pred, succ = _neighbours(g)
    movable = sorted(x for x, ids in cols.items() if any(g.node(i).kind == HIDDEN for i in ids))
    best, best_n = pos, crossings(g, pos)
    order = {x: list(ids) for x, ids in cols.items()}
    for _ in range(sweeps):
        for direction, columns in ((pred, movable), (succ, movable[::-1])):
            for x in columns:
                y = {i: pos[i][1] for i in order[x]}

                def centre(i, nbrs=direction, y=y, pos=pos):
                    ys = [pos[j][1] for j in nbrs[i]]
                    return float(np.median(ys)) if ys else y[i]

                order[x] = sorted(order[x], key=lambda i: (-centre(i), -y[i]))
                pos = place(order)
            n = crossings(g, pos)
            if n < best_n:
                best, best_n = pos, n
    return best


def draw(
    g: Genome,
    path: str | Path,
    input_names: list[str] | None = None,
    title: str | None = None,
    weights: np.ndarray | None = None,
    input_shape: tuple[int, int] | None = None,
    output_names: list[str] | None = None,
) -> Path:
    """Write a PNG drawing of `g` to `path` and return the path. weights: (len(g.connections),)
    individual weights (a trained network) or None (a WANN: one shared weight). input_shape:
    (rows, columns) of image inputs; default from `input_names` (`input_grid_shape`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    names = list(input_names or [f"in{i}" for i in range(1, g.n_inputs + 1)])
    shape = input_shape or input_grid_shape(input_names, g.n_inputs)
    if shape is not None and shape[0] * shape[1] != g.n_inputs:
        shape = None
    level = levels(g)
    n_layers = max(level.values()) + 1
    column_sizes = {}
    for n in g.nodes:
        if shape is None or n.kind not in (BIAS, INPUT):
            column_sizes[level[n.id]] = column_sizes.get(level[n.id], 0) + 1
    height = max(column_sizes.values())
    crowded = height > CROWDED
    fig_w = min(18.0, max(6.0, 0.9 * n_layers + (3.0 if shape else 0.0)))
    fig_h = min(14.0, max(4.0, 0.75 * height + 1.5))
    ax_w, ax_h = 0.94 * fig_w, 0.88 * fig_h
    last = n_layers - 1
    font = 7 if n_layers < 16 else 6
    size = 18 if crowded else min(420, 9000 / n_layers)
    labels = _labels(g, names, output_names)
    char_in = 0.55 * font / 72  # about one character's width
    left_in = 0.25 + char_in * max(len(labels[n.id]) for n in g.nodes if n.kind in (BIAS, INPUT))
    right_in = 0.25 + char_in * max(len(labels[o]) for o in g.output_ids)
    ylim = (-(height - 1) / 2.0 - 0.9, (height - 1) / 2.0 + 0.7)
    step = (0.12, 1.0)
    if shape is None:  # x range: the columns plus room for the labels left and right, in inches
        x_range = last / (1.0 - (left_in + right_in) / ax_w)
        xlim = (-left_in * x_range / ax_w, last + right_in * x_range / ax_w)
    else:  # square pixels: size the cells in inches, then in data units
        rows, cols = shape
        cell_in = min(0.42 * ax_h / rows, 0.25 * ax_w / cols, 0.35)
        x_range = (last - 0.2) / (1.0 - (cols * cell_in + 0.2 + right_in) / ax_w)
        step = (cols * cell_in * x_range / ax_w / cols, cell_in * (ylim[1] - ylim[0]) / ax_h)
        xlim = (0.2 - cols * step[0] - 0.2 * x_range / ax_w, last + right_in * x_range / ax_w)
    gap = (np.sqrt(size / np.pi) / 72 + 0.04) * x_range / ax_w  # node radius + a little, in data units
    pos = layout(g, shape, step)
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0.03, 0.04, 0.94, 0.88))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    live = _live_edges(g)
    conns = [(k, c) for k, c in enumerate(g.connections) if c.enabled]
    segs = [(pos[c.source], pos[c.destination]) for _, c in conns]
    edge_live = np.array([live[k] for k, _ in conns], dtype=bool)
    norm = cmap = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)[[k for k, _ in conns]]
        wmax = float(np.max(np.abs(w))) if w.size and np.max(np.abs(w)) > 0 else 1.0
        cmap, norm = plt.get_cmap("coolwarm"), matplotlib.colors.Normalize(-wmax, wmax)
        colors = [cmap(norm(v)) for v in w]
        lo, hi = (0.2, 1.8) if crowded else (0.4, 3.2)
        widths = lo + (hi - lo) * np.abs(w) / wmax
    else:
        colors = ["#555555"] * len(segs)
        widths = np.full(len(segs), 0.4 if crowded else 0.8)
    alphas = np.where(edge_live, 0.35 if crowded and weights is None else 0.7, 0.12)
    if crowded or shape is not None:
        rgba = [matplotlib.colors.to_rgba(c, a) for c, a in zip(colors, alphas)]
        ax.add_collection(LineCollection(segs, colors=rgba, linewidths=widths, zorder=1))
    else:
        for ((x0, y0), (x1, y1)), col, lw, a in zip(segs, colors, widths, alphas):
            props = {"arrowstyle": "-|>", "color": col, "lw": lw, "alpha": a, "shrinkA": 9, "shrinkB": 9}
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=props)
    if shape is not None:
        _draw_grid(ax, g, shape, pos, step, font, plt)
    for n in g.nodes:
        if shape is not None and n.kind == INPUT:
            continue
        x, y = pos[n.id]
        ax.scatter([x], [y], s=size, color=COLORS[n.kind], edgecolors="black", linewidths=0.5, zorder=3)
        if n.kind in (BIAS, INPUT) and shape is None:
            ax.text(x - gap, y, labels[n.id], ha="right", va="center", fontsize=font, zorder=4)
        elif n.kind == OUTPUT:
            ax.text(x + gap, y, labels[n.id], ha="left", va="center", fontsize=font, zorder=4)
        elif n.kind == BIAS or not crowded:
            ax.text(x, y - 0.2, labels[n.id], ha="center", va="top", fontsize=font, zorder=4)
    ax.set_axis_off()
    if weights is not None:
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        cax = fig.add_axes((0.80, 0.955, 0.15, 0.012))
        fig.colorbar(sm, cax=cax, orientation="horizontal").set_label("connection weight", fontsize=7)
        cax.tick_params(labelsize=6)
    meta = g.meta
    fig.suptitle(
        title
        or f"{g.n_connections} connections, {len(g.hidden)} hidden nodes"
        + (f", fitness {meta['fitness']:.1f}" if "fitness" in meta else ""),
        fontsize=10,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _labels(g: Genome, names: list[str], output_names: list[str] | None) -> dict[int, str]:
    """Node id -> its label: "bias", the input's name (at most 28 characters), or the activation
    (outputs: "NAME: activation" with `output_names`)."""
    out = {}
    for n in g.nodes:
        if n.kind == BIAS:
            out[n.id] = "bias"
        elif n.kind == INPUT:
            name = names[n.id - 1] if n.id - 1 < len(names) else f"in{n.id}"
            out[n.id] = name if len(name) <= 28 else name[:27] + "~"
        else:
            out[n.id] = activations.NAMES[n.activation]
            k = n.id - g.n_inputs - 1
            if n.kind == OUTPUT and output_names and k < len(output_names):
                out[n.id] = f"{output_names[k]}: {out[n.id]}"
    return out


def input_usage(g: Genome) -> np.ndarray:
    """(n_inputs,) live connections out of each input (`_live_edges`); 0 = unused."""
    live = _live_edges(g)
    out = np.zeros(g.n_inputs, dtype=np.int64)
    for c, ok in zip(g.connections, live):
        if ok and 1 <= c.source <= g.n_inputs:
            out[c.source - 1] += 1
    return out


def _draw_grid(ax, g: Genome, shape, pos, step, font, plt) -> None:
    """The input pixels as a grid of squares coloured by `input_usage`, with a colour bar."""
    import matplotlib

    rows, cols = shape
    dx, dy = step
    use = input_usage(g)
    cmap = plt.get_cmap("Blues")
    top = max(1, int(use.max()))
    norm = matplotlib.colors.Normalize(0, top)
    for i in range(g.n_inputs):
        x, y = pos[i + 1]
        face = "white" if use[i] == 0 else cmap(0.25 + 0.75 * norm(use[i]))
        ax.add_patch(
            matplotlib.patches.Rectangle(
                (x - dx / 2, y - dy / 2), dx, dy, facecolor=face, edgecolor="#999999", linewidth=0.4, zorder=2
            )
        )
    x0 = pos[1][0] - dx / 2
    y_top = pos[1][1] + dy / 2
    y_bot = pos[g.n_inputs][1] - dy / 2
    unused = int((use == 0).sum())
    ax.text(
        x0 + cols * dx / 2,
        y_top + 0.25 * dy,
        f"input pixels {rows}x{cols}\n({g.n_inputs - unused} used, {unused} unused)",
        ha="center",
        va="bottom",
        fontsize=font,
    )
    cax = ax.inset_axes((x0, y_bot - 1.1 * dy, cols * dx, 0.35 * dy), transform=ax.transData)
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=matplotlib.colors.ListedColormap(cmap(np.linspace(0.25, 1, 64))))
    bar = ax.figure.colorbar(sm, cax=cax, orientation="horizontal")
    bar.set_label("live connections out of the pixel (white: unused)", fontsize=font - 1)
    cax.tick_params(labelsize=font - 1)
