"""Run folders: one writer at a time, stale locks reported, resume across executors, one file
mode, and environment problems (full or read-only disk) as one line with nothing lost."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wann.cli import main
from wann.executor import SerialExecutor
from wann.files import LOCK_NAME, FolderLock, LockedError, file_mode
from wann.search.experiment import Experiment, SearchSettings
from wann.search.run import run_search
from wann.search.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
SPEC = {"name": "wann/CartPoleSwingUp-v0", "max_steps": 100}
SMALL = Experiment(name="f", seed=4, task=SPEC, search=SearchSettings(population=16, generations=4, rollouts=1))


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def write_lock(folder: Path, **doc) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_NAME).write_text(json.dumps({"host": socket.gethostname(), "since": "then", **doc}))


# ---- the lock itself ----------------------------------------------------------------------


def test_lock_is_exclusive_and_released(tmp_path):
    a = FolderLock(tmp_path / "r").acquire()
    with pytest.raises(LockedError, match=f"in use by pid {os.getpid()}") as e:
        FolderLock(tmp_path / "r").acquire(take_stale=True)  # alive: never taken over
    assert not e.value.stale
    a.release()
    assert not (tmp_path / "r" / LOCK_NAME).exists()
    assert not (tmp_path / "r").exists(), "a lock that made its folder and wrote nothing removes it again"
    with FolderLock(tmp_path / "s"):
        assert json.loads((tmp_path / "s" / LOCK_NAME).read_text())["pid"] == os.getpid()


def test_stale_lock_is_reported_and_taken_over_only_when_allowed(tmp_path):
    pid = dead_pid()
    write_lock(tmp_path, pid=pid, started=1.0)
    with pytest.raises(LockedError, match=f"stale lock: pid {pid} .* no longer running") as e:
        FolderLock(tmp_path).acquire(take_stale=False)
    assert e.value.stale and json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == pid, "refusal changed it"
    lock = FolderLock(tmp_path).acquire(take_stale=True)
    assert lock.took_over["pid"] == pid
    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    lock.release()


def test_reused_pid_is_stale_and_other_hosts_are_never(tmp_path):
    import psutil

    # our own (alive) pid, but a process start time that is not ours: the pid was reused
    write_lock(tmp_path / "a", pid=os.getpid(), started=psutil.Process().create_time() - 1000)
    FolderLock(tmp_path / "a").acquire(take_stale=True).release()
    # another host's lock, whose pid means nothing here: never stale
    write_lock(tmp_path / "b", pid=dead_pid(), host="elsewhere.example")
    with pytest.raises(LockedError, match="another host"):
        FolderLock(tmp_path / "b").acquire(take_stale=True)
    # an unreadable lock is reported, not guessed at
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / LOCK_NAME).write_text("{")
    with pytest.raises(LockedError, match="unreadable"):
        FolderLock(tmp_path / "c").acquire(take_stale=True)


# ---- concurrent writers, for real -----------------------------------------------------------


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "wann.cli", *map(str, args)]


def test_two_searches_on_one_folder_and_a_killed_owner(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text(
        'name = "c"\nseed = 0\n[task]\nname = "swingup"\nmax_steps = 200\n'
        '[search]\npopulation = 64\ngenerations = 400\n[execution]\nexecutor = "serial"\n'
    )
    out = tmp_path / "run"
    p = subprocess.Popen(
        _cli("search", exp, "--quiet", "--out", out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.time() + 120
        ck = out / "checkpoint.json"
        while time.time() < deadline and not ck.exists():
            assert p.poll() is None, p.stderr.read()
            time.sleep(0.05)
        assert ck.exists()
        # a second search (another seed) and a resume of the same folder are both refused
        assert main(["search", str(exp), "--seed", "1", "--out", str(out)]) == 2
        assert main(["search", str(exp), "--out", str(out), "--resume"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 2 and all(f"in use by pid {p.pid}" in line for line in err), err
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    gens = RunDir(out).finished_generations()
    rows = RunDir(out).read_metrics()
    assert [r["generation"] for r in rows] == [str(g) for g in range(len(rows))], "metrics interleaved"
    # the owner is gone: its lock is stale, reported, and taken over by the resume, which redoes
    # the rows written after the last checkpoint (checkpoints come every 2 s) without duplicates
    assert json.loads(ck.read_text())["state"]["generation"] <= gens
    target = gens + 1
    assert main(["search", str(exp), "--out", str(out), "--resume", "--quiet", "--generations", str(target)]) == 0
    err = capsys.readouterr().err
    assert f"stale lock from pid {p.pid}" in err and "taking it over" in err
    assert RunDir(out).finished_generations() == target
    rows = RunDir(out).read_metrics()
    assert [r["generation"] for r in rows] == [str(g) for g in range(target)]
    assert not (out / LOCK_NAME).exists()


def test_compare_refuses_a_locked_study_folder(tmp_path, capsys):
    from test_compare import write_study

    study = write_study(tmp_path, methods='["wann_best_shared"]')
    with FolderLock(tmp_path / "run"):
        assert main(["compare", str(study), "--executor", "serial", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "in use by pid" in err[0]
    assert not (tmp_path / "run").exists(), "the refused study wrote into the folder"


# ---- resume across executors ----------------------------------------------------------------


def _metrics(run: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (run / "metrics.csv").open(newline="") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames), list(r)


SAME = ("generation", "best_fitness", "mean_fitness", "best_connections", "best_ever_fitness", "total_episodes")


@pytest.mark.ray
@pytest.mark.parametrize("first,second", [("serial", "ray"), ("ray", "serial")])
def test_resume_with_the_other_executor_ends_identical(first, second, tmp_path, ray_session):
    from wann.distributed import RayExecutor

    def ex(kind):
        return SerialExecutor(SPEC) if kind == "serial" else RayExecutor(SPEC, workers=2, stall_timeout=60)

    run_search(SMALL, tmp_path / "full", executor=SerialExecutor(SPEC), progress=False)
    e1 = ex(first)
    run_search(SMALL, tmp_path / "mixed", executor=e1, progress=False, stop_after=2)
    e1.close()
    e2 = ex(second)
    run_search(SMALL, tmp_path / "mixed", executor=e2, progress=False, resume=True)
    e2.close()
    full, mixed = (json.loads((tmp_path / d / "checkpoint.json").read_text())["state"] for d in ("full", "mixed"))
    assert full == mixed
    assert (tmp_path / "full" / "champion.json").read_text() == (tmp_path / "mixed" / "champion.json").read_text()
    (hf, rf), (hm, rm) = _metrics(tmp_path / "full"), _metrics(tmp_path / "mixed")
    assert hf == hm, "metrics columns depend on the executor"
    assert [[r[c] for c in SAME] for r in rf] == [[r[c] for c in SAME] for r in rm]


def test_metrics_from_an_older_header_are_reconciled(tmp_path):
    run = RunDir(tmp_path)
    (tmp_path / "metrics.csv").write_text("generation,best_fitness\n0,1.5\n")
    run.append_metrics({"generation": 1, "best_fitness": 2.0, "workers": 2})
    head, rows = _metrics(tmp_path)
    assert head == ["generation", "best_fitness", "workers"]
    assert rows == [
        {"generation": "0", "best_fitness": "1.5", "workers": ""},
        {"generation": "1", "best_fitness": "2", "workers": "2"},
    ]


# ---- files and environment problems --------------------------------------------------------


def test_every_file_of_a_run_has_one_mode(tmp_path):
    old = os.umask(0o022)
    try:
        run_search(SMALL, tmp_path / "r", executor=SerialExecutor(SPEC), progress=False)
        modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "r").rglob("*") if p.is_file()}
    finally:
        os.umask(old)
    assert modes and set(modes.values()) == {0o644}, modes
    assert file_mode() == 0o666 & ~old


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_full_disk_is_one_line_and_the_run_resumes_identically(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WANN_CHECKPOINT_S", "0")  # a checkpoint every generation fills the disk sooner
    exp = tmp_path / "e.toml"
    exp.write_text(SMALL.replace(search=SearchSettings(population=16, generations=30, rollouts=1)).to_toml())
    with tmpfs(tmp_path / "small", "64k") as disk:
        code = main(["search", str(exp), "--executor", "serial", "--quiet", "--out", str(disk / "run")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 2 and "no space left" in err[-1], err  # the start line, then the error
        assert "--resume" in err[-1]
        import shutil

        shutil.copytree(disk / "run", tmp_path / "moved")
    moved = tmp_path / "moved"
    state = json.loads((moved / "checkpoint.json").read_text())["state"]  # whole: written atomically
    assert 0 < state["generation"] < 30
    (moved / LOCK_NAME).unlink(missing_ok=True)
    assert main(["search", str(exp), "--executor", "serial", "--quiet", "--out", str(moved), "--resume"]) == 0
    capsys.readouterr()
    assert main(["search", str(exp), "--executor", "serial", "--quiet", "--out", str(tmp_path / "full")]) == 0
    a, b = (json.loads((tmp_path / d / "checkpoint.json").read_text())["state"] for d in ("moved", "full"))
    assert a == b


def test_read_only_out_is_refused_before_any_work(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text(SMALL.to_toml())
    with tmpfs(tmp_path / "ro", "64k") as disk:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        assert main(["search", str(exp), "--quiet", "--out", str(disk / "run")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "not writable" in err[0], err


def test_checkpoints_come_every_few_seconds_and_at_the_end(tmp_path, monkeypatch):
    """With WANN_CHECKPOINT_S = 3600 a run writes its first generation's checkpoint, then none
    until the end; metrics.csv has every row meanwhile; a bad value is refused first."""
    from wann.errors import ConfigError
    from wann.search.reporters import Reporter

    monkeypatch.setenv("WANN_CHECKPOINT_S", "3600")
    seen = []

    class Peek(Reporter):
        def generation(self, state, report):
            ck = json.loads((tmp_path / "r" / "checkpoint.json").read_text())
            seen.append((report["generation"], ck["state"]["generation"], len(RunDir(tmp_path / "r").read_metrics())))

    exp = SMALL.replace(search=SearchSettings(population=8, generations=5, rollouts=1))
    run_search(exp, tmp_path / "r", executor=SerialExecutor(exp.task), progress=False, reporters=[Peek()])
    assert seen == [(0, 1, 1), (1, 1, 2), (2, 1, 3), (3, 1, 4), (4, 1, 5)]
    assert json.loads((tmp_path / "r" / "checkpoint.json").read_text())["state"]["generation"] == 5
    monkeypatch.setenv("WANN_CHECKPOINT_S", "soon")
    with pytest.raises(ConfigError, match="WANN_CHECKPOINT_S"):
        run_search(exp, tmp_path / "other", executor=SerialExecutor(exp.task), progress=False)
    assert not (tmp_path / "other").exists()
