"""The ``[islands]`` table of an experiment: settings and their checks (no I/O, no Ray).

    [islands]
    count = 4                 # islands (one Ray actor each); >= 1
    migration_interval = 10   # generations per epoch: islands exchange migrants every this many
    migrants = 1              # genomes each island sends to each neighbour per epoch; >= 0
    topology = "ring"         # "ring": to the next island; "full": to every other island

The search population is split as evenly as possible: island k gets ``population // count``
genomes, plus one for the first ``population % count`` islands (`island_sizes`), so 10 genomes
on 4 islands are 3, 3, 2, 2. Every island must be a working search on its own: at least 4
genomes, at least 2 parents left after the cull, not fewer genomes than the tournament size, and
more genomes than it receives per epoch (``migrants`` on a ring, ``migrants x (count - 1)``
fully connected), so some of its own survive each migration. ``migrants = 0`` gives independent
islands (a control). A problem raises one `ConfigError` naming the field (``islands.count`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wann.errors import ConfigError
from wann.limits import MAX_WORKERS

TOPOLOGIES = ("ring", "full")


@dataclass(frozen=True)
class IslandSettings:
    """The ``[islands]`` table: `count` islands (one Ray actor each, or in-process with the
    serial executor), exchanging `migrants` genomes (each island's best, to each neighbour)
    every `migration_interval` generations along `topology` (``"ring"``: island k sends to
    k + 1; ``"full"``: to every other island). Where an island evaluates is `[execution]`'s:
    with ``workers`` (0: one per CPU) at least twice ``count``, each island on Ray gets an
    evaluator pool of ``workers // count`` actors, else it evaluates in its own actor. Checked
    by `check_islands`."""

    count: int = 4
    migration_interval: int = 10
    migrants: int = 1
    topology: str = "ring"

    def incoming(self) -> int:
        """Genomes one island receives per migration."""
        if self.count < 2:
            return 0
        return self.migrants * (1 if self.topology == "ring" else self.count - 1)


def _at_least(lo: int):
    return lambda v: f"must be >= {lo}" if v < lo else None


#: per-key checks, in the form of `wann.search.experiment.CHECKS` (value -> message or None)
ISLAND_CHECKS: dict[str, Any] = {
    "islands.count": lambda v: "must be >= 1" if v < 1 else f"must be <= {MAX_WORKERS}" if v > MAX_WORKERS else None,
    "islands.migration_interval": _at_least(1),
    "islands.migrants": _at_least(0),
    "islands.topology": lambda v: None if v in TOPOLOGIES else 'must be "ring" or "full"',
}


def island_sizes(population: int, count: int) -> list[int]:
    """The population of each island: as even as possible, the larger ones first."""
    base, extra = divmod(population, count)
    return [base + (1 if k < extra else 0) for k in range(count)]


def check_islands(islands: IslandSettings, search: Any, source: str | None = None) -> None:
    """ConfigError naming the field when `islands` cannot run with `search` (a `SearchSettings`):
    the per-key checks first (for settings made in Python), then the islands' sizes."""
    for f in ("count", "migration_interval", "migrants", "topology"):
        value = getattr(islands, f)
        want = str if f == "topology" else int
        if not isinstance(value, want) or isinstance(value, bool):
            raise ConfigError(
                f"islands.{f}", f"expected {'a string' if want is str else 'an integer'}, got {value!r}", source
            )
        msg = ISLAND_CHECKS[f"islands.{f}"](value)
        if msg:
            raise ConfigError(f"islands.{f}", f"{msg}, got {value!r}", source)
    smallest = min(island_sizes(search.population, islands.count))
    per = f"search.population = {search.population} on {islands.count} islands gives islands of {smallest}"
    if smallest < 4:
        raise ConfigError("islands.count", f"{per} genomes; each island needs at least 4: lower count", source)
    if smallest * (1 - search.cull) < 2:
        raise ConfigError(
            "islands.count", f"{per} genomes, fewer than 2 parents after the cull: lower count or cull", source
        )
    if search.tournament > smallest:
        raise ConfigError(
            "islands.count",
            f"{per} genomes, fewer than search.tournament = {search.tournament}: lower count or the tournament",
            source,
        )
    if islands.incoming() >= smallest:
        how = "migrants" if islands.topology == "ring" else f"migrants x (count - 1) = {islands.incoming()}"
        raise ConfigError(
            "islands.migrants",
            f"an island of {smallest} genomes would receive {how} genomes per epoch, replacing all of its own: "
            f'send fewer (at most {smallest - 1} in all), or use topology = "ring"',
            source,
        )
