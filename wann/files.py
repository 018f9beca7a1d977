"""Files wann reads and writes: safe reading, atomic writing, one mode, and folder locks.

Reading: `read_text` and `read_json` turn every way a user's file can be unreadable (missing, a
folder, not UTF-8, too large, nested too deeply, not JSON) into one `ConfigError` naming the file
and what to do.

Writing: every file wann writes is created with mode ``0o666 & ~umask`` (0644 under the usual
umask 022), atomically where it matters (temporary file in the same folder, fsync, rename), so a
killed run leaves each file either old or new, never half-written. The only exception is the Ray
token file (0600, `wann.distributed`).

Locks: `FolderLock` marks a folder as in use by one process (``.wann.lock``: the owner's pid,
host, boot id and process start time, as JSON). A second writer is refused with one line; a lock
whose owner is provably gone (same host and boot, no process with that pid and start time) is
stale: it is reported and taken over only where the caller allows it (a resume of a killed run),
never silently; a lock from another host is never taken over.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from wann.errors import ConfigError

#: the largest text file (experiment, study, genome, checkpoint) wann will read, in bytes
MAX_TEXT_BYTES = 256 * 2**20
LOCK_NAME = ".wann.lock"


def file_mode() -> int:
    """The mode of every file wann writes: 0o666 less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


# ---- reading -------------------------------------------------------------------------------


def read_text(path: str | Path, field: str, what: str = "file") -> str:
    """The UTF-8 text of `path`, or ConfigError(field) saying why it cannot be read."""
    p = Path(path)
    try:
        if p.is_dir():
            raise ConfigError(field, f"{p} is a folder; give the path of the {what}")
        size = p.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise ConfigError(field, f"{p} is {size / 2**20:.0f} MiB, too large for the {what}; check the path")
        data = p.read_bytes()
    except ConfigError:
        raise
    except FileNotFoundError:
        raise ConfigError(field, f"{p} does not exist; give the path of the {what}") from None
    except OSError as e:
        raise ConfigError(field, f"cannot read {p} ({e.strerror or e}); check the path and its permissions") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            field, f"{p} is not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start}); save it as UTF-8"
        ) from None


def parse_json(text: str, field: str, source: str) -> Any:
    """json.loads with one ConfigError for invalid or absurdly nested JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(field, f"{source} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise ConfigError(field, f"{source} is nested too deeply to be a wann file") from None


def read_json(path: str | Path, field: str, what: str = "JSON file") -> Any:
    return parse_json(read_text(path, field, what), field, str(path))


# ---- writing -------------------------------------------------------------------------------


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically (temporary file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


# ---- folders -------------------------------------------------------------------------------


def check_writable_folder(path: Path, field: str) -> None:
    """ConfigError(field) when `path` is a file, or a folder (existing or to be made) that this
    process cannot write."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(field, f"{p} is a file; give a folder")
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(field, f"{probe} is a file, so {p} cannot be made; give another folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(field, f"{probe} is not writable by this user; choose a folder you can write")


def visible_entries(path: Path) -> list[str]:
    """Names in folder `path` (none if it does not exist), the lock file excluded."""
    if not Path(path).is_dir():
        return []
    return sorted(n for n in os.listdir(path) if n != LOCK_NAME)


# ---- locks ---------------------------------------------------------------------------------


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> float | None:
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:
        return None


class LockedError(ConfigError):
    """The folder is locked by another process (alive, on another host, or stale)."""

    def __init__(self, field: str, message: str, stale: bool):
        super().__init__(field, message)
        self.stale = stale


class FolderLock:
    """An exclusive lock on a folder while one command writes into it.

    ``FolderLock(path, field).acquire(take_stale=False)`` creates ``path/.wann.lock`` with
    O_CREAT | O_EXCL (so two processes can never both hold it) and raises LockedError otherwise.
    `take_stale`: replace a lock whose owner is provably gone (this host and boot, and no process
    with its pid and start time); the caller reports that it did (`took_over`). `release` removes
    the file if it is still ours. Usable as a context manager."""

    def __init__(self, folder: str | Path, field: str = "out", command: str = ""):
        self.folder = Path(folder)
        self.file = self.folder / LOCK_NAME
        self.field = field
        self.command = command
        self.took_over: dict[str, Any] | None = None
        self.created = False  # this lock made the folder (release removes it again if empty)
        self._held = False
        self._doc: dict[str, Any] = {}

    def _mine(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "boot_id": _boot_id(),
            "started": _start_time(os.getpid()),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": self.command,
        }

    def owner(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.file.read_text())
            return doc if isinstance(doc, dict) else {}
        except (FileNotFoundError, NotADirectoryError):
            return None  # no lock (or no folder: the caller reports what the path is)
        except (OSError, ValueError, RecursionError):
            return {}

    def _is_stale(self, doc: dict[str, Any]) -> bool:
        if doc.get("host") != socket.gethostname():
            return False  # cannot see another host's processes: never stale
        if doc.get("boot_id") and doc.get("boot_id") != _boot_id():
            return True  # the machine rebooted since
        pid = doc.get("pid")
        if not isinstance(pid, int) or pid <= 0:
            return False
        started = _start_time(pid)
        if started is None:
            return True  # no such process
        recorded = doc.get("started")
        return isinstance(recorded, (int, float)) and abs(started - recorded) > 1.0  # pid reused

    def check_free(self, take_stale: bool = False) -> None:
        """Read-only: raise LockedError now if `acquire(take_stale)` would refuse (so a command
        says "in use" before judging the folder's contents)."""
        other = self.owner()
        if other is None or (other and take_stale and self._is_stale(other)):
            return
        self._refuse_or_take(other, take_stale=False)

    def acquire(self, take_stale: bool = False) -> FolderLock:
        self.created = not self.folder.exists()
        self.folder.mkdir(parents=True, exist_ok=True)
        doc = self._mine()
        for _ in range(3):
            try:
                fd = os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode())
            except FileExistsError:
                other = self.owner()
                if other is None:
                    continue  # released meanwhile: try again
                self._refuse_or_take(other, take_stale)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(doc))
                f.flush()
                os.fsync(f.fileno())
            self._held, self._doc = True, doc
            return self
        raise LockedError(self.field, f"could not lock {self.folder}: another process keeps taking it", False)

    def _refuse_or_take(self, other: dict[str, Any], take_stale: bool) -> None:
        who = f"pid {other.get('pid', '?')} on {other.get('host', '?')}"
        since = f" since {other['since']}" if other.get("since") else ""
        cmd = f" ({other['command']})" if other.get("command") else ""
        if not other:
            raise LockedError(
                self.field,
                f"{self.file} exists but is unreadable; if no wann command is using {self.folder}, delete it",
                True,
            )
        if self._is_stale(other):
            if take_stale:
                # replace atomically: a concurrent taker either sees our file or its own
                stale = self.folder / f"{LOCK_NAME}.stale-{os.getpid()}"
                try:
                    os.replace(self.file, stale)
                except FileNotFoundError:
                    return  # another process took it first: the caller tries again
                moved = json.loads(stale.read_text() or "{}")
                if moved != other:  # a fresh lock appeared in between: put it back, then refuse
                    try:
                        os.link(stale, self.file)
                    except FileExistsError:
                        pass
                    stale.unlink()
                    raise LockedError(self.field, f"{self.folder} was just locked by another process", False)
                stale.unlink()
                self.took_over = other
                return
            raise LockedError(
                self.field,
                f"{self.folder} has a stale lock: {who}{cmd}{since} is no longer running (killed?). Nothing was "
                f"changed; resume the run (--resume) or, if you are sure, delete {self.file}",
                True,
            )
        here = other.get("host") == socket.gethostname()
        raise LockedError(
            self.field,
            f"{self.folder} is in use by {who}{cmd}{since}; wait for it to finish or choose another folder"
            + ("" if here else f" (another host: if that run is gone, delete {self.file})"),
            False,
        )

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        try:
            if json.loads(self.file.read_text()).get("pid") == self._doc["pid"]:
                self.file.unlink()
            if self.created and not any(self.folder.iterdir()):
                self.folder.rmdir()  # a command that wrote nothing leaves no empty folder behind
        except (OSError, ValueError):
            pass

    def __enter__(self) -> FolderLock:
        return self.acquire() if not self._held else self

    def __exit__(self, *exc) -> None:
        self.release()
