"""Island runs ([islands]): settings, determinism, migration, serial == Ray, checkpoints and
resume, killed island actors, killed driver."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from wann.errors import ConfigError
from wann.search.experiment import experiment_from_dict, experiment_identity
from wann.search.island_run import TIMING_COLUMNS
from wann.search.island_settings import IslandSettings, island_sizes
from wann.search.islands import Island, best_first, route
from wann.search.reporters import Reporter
from wann.search.run import run_search

ROOT = Path(__file__).resolve().parents[1]
BASE = {
    "name": "isl",
    "seed": 3,
    "task": {"name": "CartPole-v1", "max_steps": 100},
    "search": {"population": 24, "generations": 6, "tournament": 2, "rollouts": 2},
    "execution": {"executor": "serial"},
    "islands": {"count": 2, "migration_interval": 2, "migrants": 2, "topology": "ring"},
}


def make(**islands):
    d = json.loads(json.dumps(BASE))
    d["islands"].update(islands)
    return experiment_from_dict(d)


def outcome(path: Path) -> dict:
    """Everything a run folder says about results (no timing columns)."""
    with (path / "metrics.csv").open() as f:
        rows = [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in csv.DictReader(f)]
    islands = sorted((path / "islands").glob("island-*.json"))
    mig = path / "migrations.csv"
    return {
        "metrics": rows,
        "champion": json.loads((path / "champion.json").read_text()),
        "islands": [json.loads(p.read_text())["state"] for p in islands],
        "migrations": mig.read_text() if mig.exists() else None,
        "champions": sorted(p.name for p in (path / "champions").iterdir()),
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    run_search(make(), out, progress=False)
    return outcome(out)


# ---- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "islands, field, words",
    [
        ({"cuont": 2}, "islands.cuont", "did you mean 'count'"),
        ({"count": 0}, "islands.count", ">= 1"),
        ({"count": 2.5}, "islands.count", "integer"),
        ({"count": 7}, "islands.count", "at least 4"),
        ({"migration_interval": 0}, "islands.migration_interval", ">= 1"),
        ({"migrants": -1}, "islands.migrants", ">= 0"),
        ({"migrants": 12}, "islands.migrants", "replacing all"),
        ({"count": 4, "migrants": 2, "topology": "full"}, "islands.migrants", "x (count - 1) = 6"),
        ({"topology": "star"}, "islands.topology", '"ring" or "full"'),
    ],
)
def test_bad_island_settings_name_the_field(islands, field, words):
    with pytest.raises(ConfigError) as e:
        make(**islands)
    assert e.value.field == field and words in str(e.value), str(e.value)


def test_island_tournament_and_table_type():
    d = json.loads(json.dumps(BASE))
    d["search"]["tournament"] = 8
    d["islands"]["count"] = 4
    with pytest.raises(ConfigError, match="fewer than search.tournament") as e:
        experiment_from_dict(d)
    assert e.value.field == "islands.count"
    d["islands"] = 3
    with pytest.raises(ConfigError) as e:
        experiment_from_dict(d)
    assert e.value.field == "islands"


def test_population_split_and_toml_round_trip():
    assert island_sizes(10, 4) == [3, 3, 2, 2] and island_sizes(24, 3) == [8, 8, 8]
    exp = make(count=3, topology="full", migrants=1)
    assert exp.islands == IslandSettings(3, 2, 1, "full")
    again = experiment_from_dict(tomllib.loads(exp.to_toml()))
    assert again == exp
    single = exp.replace(islands=None)
    assert "[islands]" not in single.to_toml()
    assert experiment_identity(single) != experiment_identity(exp)
    assert experiment_from_dict({**BASE, "islands": {}}).islands == IslandSettings()


# ---- the island model ------------------------------------------------------------------------


def test_route_is_fixed_by_index():
    em = [[f"{k}a", f"{k}b"] for k in range(3)]
    assert route(em, "ring") == [["2a", "2b"], ["0a", "0b"], ["1a", "1b"]]
    assert route(em, "full") == [["1a", "1b", "2a", "2b"], ["0a", "0b", "2a", "2b"], ["0a", "0b", "1a", "1b"]]
    assert route(em[:1], "ring") == [[]]


def test_migration_moves_the_neighbours_best():
    exp = make(migrants=2)
    a, b = Island(exp, 0), Island(exp, 1)
    outs = [isl.run(2, True, 2) for isl in (a, b)]
    assert [len(o["reports"]) for o in outs] == [1, 1] and outs[0]["state"] is None
    ev_b = b._pending[0]
    worst_b = best_first(ev_b, b.state.population)[::-1][:2]
    imm = route([o["emigrants"] for o in outs], "ring")
    assert [m.source for m in imm[1]] == [0, 0] and [m.rank for m in imm[1]] == [0, 1]
    best_of_a = imm[1][0].genome
    assert imm[1][0].fitness >= imm[1][1].fitness
    got = b.receive(imm[1])
    assert got["slots"] == worst_b  # the best migrant took the worst native's place
    assert got["replaced"][0] <= got["replaced"][1] <= imm[1][1].fitness
    assert best_of_a.fingerprint() in {g.fingerprint() for g in b.state.population}  # now an elite of b
    assert got["kept"] >= 1 and b.state.generation == 2
    # the migrants' episodes are not counted twice
    assert got["reports"][0]["episodes"] == ev_b.episodes


def test_two_runs_are_identical(tmp_path, reference):
    run_search(make(), tmp_path / "again", progress=False)
    got = outcome(tmp_path / "again")
    assert got == reference
    rows = got["metrics"]
    assert len(rows) == 6 * 2 and [(r["generation"], r["island"]) for r in rows[:3]] == [
        ("0", "0"),
        ("0", "1"),
        ("1", "0"),
    ]
    assert rows[0]["total_episodes"] == str(2 * int(rows[0]["episodes"]))
    assert got["migrations"].count("\n") == 1 + 3  # header + the epochs ending at 2, 4 and 6
    assert got["champion"]["meta"]["selection_episodes"] == 10 and "island" in got["champion"]["meta"]


def test_plot_draws_one_line_per_island(tmp_path):
    from wann.analysis.run_plot import plot_runs, read_run, split_islands

    run_search(make(count=3), tmp_path / "isl", progress=False)
    parts = split_islands(read_run(tmp_path / "isl"))
    assert [p.name for p in parts] == ["isl island 0", "isl island 1", "isl island 2"]
    assert all(list(p.columns["generation"]) == list(range(6)) for p in parts)
    assert len({tuple(p.columns["best_fitness"]) for p in parts}) == 3  # each island's own curve
    png = plot_runs([tmp_path / "isl"], tmp_path / "isl.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_result_state_and_independent_islands(tmp_path):
    r = run_search(make(count=3, migrants=0), tmp_path / "free", progress=False)
    assert r.generations_run == 6 and r.state.generation == 6 and len(r.state.population) == 24
    assert r.state.best is not None and r.state.best_fitness == r.state.best.meta["fitness"]
    assert not (tmp_path / "free" / "migrations.csv").exists()
    assert r.state.episodes == 24 * 6 * 6 * 2  # population x generations x weights x rollouts
    one = run_search(make(count=1), None, progress=False)  # a single island works, without a folder
    assert one.state.generation == 6


def test_single_population_run_is_unchanged(tmp_path):
    exp = make().replace(islands=None)
    run_search(exp, tmp_path / "single", progress=False)
    header = (tmp_path / "single" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["generation", "objective", "best_fitness"] and "island" not in header
    assert not (tmp_path / "single" / "islands").exists()


# ---- nothing lost ----------------------------------------------------------------------------


def test_stop_and_resume_ends_identical(tmp_path, reference):
    out = tmp_path / "run"
    first = run_search(make(), out, progress=False, stop_after=3)  # ends mid-epoch
    assert first.generations_run == 3
    assert json.loads((out / "checkpoint.json").read_text())["state"]["generation"] == 3
    run_search(make(), out, progress=False, resume=True)
    assert outcome(out) == reference


def test_extending_a_finished_run_equals_a_longer_one(tmp_path, reference):
    out = tmp_path / "run"
    short = make()
    run_search(short.replace(search=replace(short.search, generations=4)), out, progress=False)
    run_search(make(), out, progress=False, resume=True)  # 6 generations: two more
    assert outcome(out) == reference


def test_resume_when_killed_between_island_files_and_checkpoint(tmp_path, reference):
    out = tmp_path / "run"
    run_search(make(), out, progress=False, stop_after=2)
    old = (out / "checkpoint.json").read_bytes()
    run_search(make(), out, progress=False, resume=True, stop_after=2)
    # the island files, champion and rows of generations 2-3 are written, checkpoint.json is not
    (out / "checkpoint.json").write_bytes(old)
    run_search(make(), out, progress=False, resume=True)
    assert outcome(out) == reference


def test_resume_refuses_a_missing_island_file(tmp_path):
    out = tmp_path / "run"
    run_search(make(), out, progress=False, stop_after=2)
    (out / "islands" / "island-1.json").unlink()
    with pytest.raises(ConfigError, match="island-1.json is missing") as e:
        run_search(make(), out, progress=False, resume=True)
    assert e.value.field == "resume"
    with pytest.raises(ConfigError, match="different experiment"):
        run_search(make(migrants=1), out, progress=False, resume=True)


def test_killed_driver_resumes_to_identical_end(tmp_path):
    exp = make()
    exp = exp.replace(search=replace(exp.search, generations=30))
    run_search(exp, tmp_path / "full", progress=False)
    (tmp_path / "exp.toml").write_text(exp.to_toml())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "wann.cli", "search", str(tmp_path / "exp.toml"), "--executor", "serial", "--quiet"]
    cmd += ["--out", str(tmp_path / "killed")]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    ck = tmp_path / "killed" / "checkpoint.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        if ck.exists() and json.loads(ck.read_text() or "{}").get("state", {}).get("generation", 0) >= 4:
            break
        time.sleep(0.005)
    assert p.poll() is None, p.stderr.read().decode()
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert json.loads(ck.read_text())["state"]["generation"] < 30
    r = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert outcome(tmp_path / "killed") == outcome(tmp_path / "full")


# ---- Ray -------------------------------------------------------------------------------------


@pytest.mark.ray
def test_ray_islands_equal_serial(tmp_path, reference, ray_session):
    from wann.distributed import RayIslands

    with RayIslands() as backend:
        r = run_search(make(), tmp_path / "ray", executor=backend, progress=False)
        assert backend.stats()["restarts"] == 0 and backend.stats()["workers"] == 2
    assert r.state.generation == 6
    assert outcome(tmp_path / "ray") == reference


def test_an_island_evaluates_through_its_own_pool_with_the_same_result(tmp_path, ray_session):
    """More evaluators than islands: each island gets a pool of its own (made inside its actor)."""
    from wann.distributed import RayIslands
    from wann.errors import WannError

    one = make(count=1)
    run_search(one, tmp_path / "serial", progress=False)
    with RayIslands(workers=2) as backend:
        run_search(one, tmp_path / "pool", executor=backend, progress=False)
        assert backend.stats()["evaluators_per_island"] == 2 and backend.stats()["workers"] == 2
    assert outcome(tmp_path / "pool") == outcome(tmp_path / "serial")
    with RayIslands(workers=8) as backend, pytest.raises(WannError, match="2 islands x 4 evaluators need 8 CPUs"):
        run_search(make(), tmp_path / "big", executor=backend, progress=False)


class KillAt(Reporter):
    """Kills island 0's actor for good once generation `at` is reported (between epochs)."""

    def __init__(self, backend, at):
        self.backend, self.at, self.done = backend, at, False

    def generation(self, state, report):
        import ray

        if report["generation"] == self.at and not self.done:
            self.done = True
            ray.kill(self.backend.actors[0], no_restart=True)


@pytest.mark.ray
def test_killed_island_actors_restart_to_identical_end(tmp_path, reference, ray_session):
    from wann.distributed import RayIslands

    with RayIslands() as backend:
        killer = KillAt(backend, 1)
        backend_start = backend.start

        def start(factories, states):  # once the actors exist: island 1 crashes inside its first receive
            backend_start(factories, states)
            backend.arm_crash(1, "receive")

        backend.start = start
        run_search(make(), tmp_path / "ray", executor=backend, progress=False, reporters=[killer])
        assert killer.done and backend.restarts == 2
    assert outcome(tmp_path / "ray") == reference
