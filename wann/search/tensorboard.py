"""TensorBoard tracking of a search: `TensorBoard`, the reporter that writes a run's event files
(optional: ``pip install 'wann[tracking]'``), the event-file writer it shares with a study's
(`EventFile`), and `reporters_from_settings`, which builds the optional reporters a command line
asks for."""

from __future__ import annotations

import numbers
import time
from pathlib import Path
from typing import Any

from wann import activations
from wann.genome import BIAS, INPUT, OUTPUT, Genome
from wann.search.reporters import ACCURACY_COLUMN, Reporter
from wann.search.search import SearchState

#: metrics.csv column -> TensorBoard tag of the per-generation scalars (and every
#: ``best_at_w<w>`` column as ``shared_weight/best_at_w<w>``: the best genome at that weight)
TENSORBOARD_SCALARS: dict[str, str] = {
    "best_fitness": "fitness/best",
    "mean_fitness": "fitness/mean",
    "median_fitness": "fitness/median",
    "best_max": "fitness/best_max",
    "best_ever_fitness": "fitness/best_ever",
    ACCURACY_COLUMN: "accuracy/champion_train",
    "best_connections": "structure/best_connections",
    "mean_connections": "structure/mean_connections",
    "best_nodes": "structure/best_nodes",
    "mean_nodes": "structure/mean_nodes",
    "episodes": "budget/episodes",
    "total_episodes": "budget/total_episodes",
    "total_env_steps": "budget/total_env_steps",
    "wall_s": "time/wall_s",
    "cpu_s": "time/cpu_s",
    "gen_wall_s": "time/gen_wall_s",
    "gen_cpu_s": "time/gen_cpu_s",
    "workers": "executor/workers",
    "restarts": "executor/restarts",
}

#: what `--tensorboard` needs, and how to get it
TENSORBOARD_HINT = "needs the tensorboard package: pip install 'wann[tracking]' (or tensorboard==2.21.0)"


def tensorboard_tags(report: dict[str, Any]) -> dict[str, str]:
    """The metrics columns of a generation's row that `TensorBoard` logs -> their tags."""
    tags = {k: t for k, t in TENSORBOARD_SCALARS.items() if k in report}
    tags.update({k: f"shared_weight/{k}" for k in report if k.startswith("best_at_w")})
    return tags


class EventFile:
    """One TensorBoard event file in `logdir`, written with the tensorboard package's own
    writer (`EventFileWriter`; no TensorFlow, no torch): scalars and markdown text. ConfigError
    naming `field` when tensorboard is not installed or `logdir` cannot be written, raised by
    `check` before any work."""

    def __init__(self, logdir: str | Path, field: str = "--tensorboard"):
        self.logdir, self.field = Path(logdir), field
        self._writer = None

    def check(self) -> None:
        from wann.files import check_writable_folder

        _tb(self.field)
        check_writable_folder(self.logdir, self.field)

    def open(self) -> None:
        if self._writer is None:
            ew = _tb(self.field)["EventFileWriter"]
            self.logdir.mkdir(parents=True, exist_ok=True)
            self._writer = ew(str(self.logdir), flush_secs=10)

    def _event(self, step: int, **fields) -> None:
        self.open()
        pb = _tb(self.field)
        self._writer.add_event(pb["event_pb2"].Event(wall_time=time.time(), step=int(step), **fields))

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Scalars {tag: value} at `step` (one event; values that are not numbers are left out)."""
        summary_pb2 = _tb(self.field)["summary_pb2"]
        vals = [
            summary_pb2.Summary.Value(tag=tag, simple_value=float(v))
            for tag, v in values.items()
            if isinstance(v, numbers.Real) and not isinstance(v, bool)
        ]
        if vals:
            self._event(step, summary=summary_pb2.Summary(value=vals))

    def text(self, tag: str, markdown: str, step: int) -> None:
        """A text summary (TensorBoard's text tab renders it as markdown)."""
        pb = _tb(self.field)
        tensor = pb["tensor_pb2"].TensorProto(
            dtype=pb["types_pb2"].DT_STRING,
            string_val=[markdown.encode("utf-8")],
            tensor_shape=pb["tensor_shape_pb2"].TensorShapeProto(),
        )
        meta = pb["text_metadata"].create_summary_metadata(display_name=tag, description="")
        value = pb["summary_pb2"].Summary.Value(tag=tag, metadata=meta, tensor=tensor)
        self._event(step, summary=pb["summary_pb2"].Summary(value=[value]))

    def restart_at(self, step: int) -> None:
        """A resumed run: TensorBoard drops what an earlier file logged at `step` or later (a
        session START event), so the continued curves have no doubled points."""
        event_pb2 = _tb(self.field)["event_pb2"]
        self._event(step, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


_TB: dict[str, Any] = {}


def _tb(field: str) -> dict[str, Any]:
    """tensorboard's writer and protos (imported once), or ConfigError(field) without it."""
    if not _TB:
        try:
            from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
            from tensorboard.plugins.text import metadata as text_metadata
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError:
            from wann.errors import ConfigError

            raise ConfigError(field, TENSORBOARD_HINT) from None
        _TB.update(
            EventFileWriter=EventFileWriter,
            event_pb2=event_pb2,
            summary_pb2=summary_pb2,
            tensor_pb2=tensor_pb2,
            tensor_shape_pb2=tensor_shape_pb2,
            types_pb2=types_pb2,
            text_metadata=text_metadata,
        )
    return _TB


class TensorBoard(Reporter):
    """TensorBoard event files of a search in `logdir` (``tensorboard --logdir LOGDIR``): per
    generation, at step = the ``generation`` column of metrics.csv, the scalars of
    `TENSORBOARD_SCALARS` (best / mean / median / best-ever fitness, the best genome at each
    shared weight, connections and nodes, episodes, wall and CPU seconds, workers); the
    champion's structure as text whenever it improves (tag ``champion``); the experiment file
    as text at the start. A resumed run appends a new event file to the same folder and tells
    TensorBoard to drop anything logged past its checkpoint. Needs the ``tensorboard`` package
    (``pip install 'wann[tracking]'``): ConfigError(`field`) when it is not installed, raised
    here, before any work starts."""

    def __init__(self, logdir: str | Path, field: str = "--tensorboard"):
        self.events = EventFile(logdir, field)
        self.events.check()
        self.logdir = self.events.logdir

    def start(self, info: dict[str, Any]) -> None:
        self.events.open()
        if info["start"] > 0:
            self.events.restart_at(info["start"])
        exp = info.get("experiment")
        if exp is not None and hasattr(exp, "to_toml"):
            try:
                toml = exp.to_toml()
            except Exception:  # a Python task object: no file form
                toml = repr(exp)
            self.events.text("experiment", "```toml\n" + toml + "\n```", info["start"])

    def new_best(self, genome: Genome, generation: int) -> None:
        self.events.text("champion", champion_markdown(genome), generation)

    def generation(self, state: SearchState, report: dict[str, Any]) -> None:
        tags = tensorboard_tags(report)
        self.events.scalars({t: report[k] for k, t in tags.items()}, report["generation"])
        self.events.flush()

    def end(self, state: SearchState) -> None:
        self.events.close()


def champion_markdown(genome: Genome) -> str:
    """A champion as markdown: fitness, per-weight rewards, size, activations, every enabled
    connection (``in3 -> h12 tanh``)."""
    from wann.genome import summary

    m, s = genome.meta, summary(genome)
    lines = []
    if "fitness" in m:
        lines.append(f"**fitness** {m['fitness']:.6g} (best single weight {m.get('max_fitness', float('nan')):.6g})")
    if m.get("shared_weights") and m.get("rewards_per_weight"):
        pairs = ", ".join(f"{w:+g}: {r:.4g}" for w, r in zip(m["shared_weights"], m["rewards_per_weight"]))
        lines.append(f"**at each shared weight** {pairs}")
    acts = ", ".join(f"{k} {v}" for k, v in s["hidden_activations"].items()) or "none"
    lines.append(
        f"**{s['connections']} connections** ({s['disabled_connections']} disabled), {s['hidden']} hidden nodes "
        f"({acts}), depth {s['depth']}, {len(s['inputs_used'])}/{s['inputs']} inputs used"
    )
    kinds = {n.id: n for n in genome.nodes}

    def name(i: int) -> str:
        n = kinds[i]
        if n.kind == BIAS:
            return "bias"
        return f"{'in' if n.kind == INPUT else 'out' if n.kind == OUTPUT else 'h'}{i}"

    edges = [
        f"{name(c.source)} -> {name(c.destination)} ({activations.NAMES[kinds[c.destination].activation]})"
        for c in genome.connections
        if c.enabled
    ]
    return "\n\n".join(lines) + "\n\n```\n" + "\n".join(edges) + "\n```"


def reporters_from_settings(tensorboard: str | Path | None = None, run_name: str | None = None) -> list[Reporter]:
    """The optional reporters a command line asks for, built (and checked: ConfigError naming
    ``--tensorboard``) before any work starts. tensorboard: a TensorBoard log folder; the
    run's event files go to ``tensorboard/run_name`` (the run folder's name, so that several
    runs sit side by side under one ``tensorboard --logdir``), or to the folder itself
    without a name."""
    out: list[Reporter] = []
    if tensorboard:
        logdir = Path(tensorboard) / run_name if run_name else Path(tensorboard)
        out.append(TensorBoard(logdir))
    return out
