"""How an exception that reached the command line is told: an exit code and one line."""

from __future__ import annotations

from wann.errors import ConfigError, WannError


def describe_error(e: BaseException, command: str) -> tuple[int, str]:
    """(exit code, one line) for an exception that reached the command line."""
    resume = {
        "search": "; finished generations are in the checkpoint (--resume continues)",
        "compare": "; finished cells are saved (rerun to resume)",
    }.get(command, "")
    flags = {**COMMON_FLAGS, **FLAGS.get(command, {})}
    if isinstance(e, ConfigError) and e.field in flags:
        flag = flags[e.field]
        return 2, one_line(f"{e.source + ': ' if e.source else ''}{flag}: {e.message}")
    if isinstance(e, WannError):
        return 2, one_line(str(e))
    if isinstance(e, OSError):
        import errno

        what = f" {e.filename}" if e.filename else ""
        if e.errno == errno.ENOSPC:
            return 2, f"no space left on the disk writing{what}: free space and rerun{resume}"
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return 2, f"not allowed to write{what} ({e.strerror}): choose a folder you can write{resume}"
        return 2, f"{e.strerror or e}{':' if what else ''}{what}{resume}"
    if isinstance(e, MemoryError):
        return 2, f"out of memory: the settings ask for more than this machine has; lower the sizes{resume}"
    if isinstance(e, RecursionError):
        return 2, "input nested too deeply (a damaged or hostile file?)"
    return 1, f"internal error {type(e).__name__}: {one_line(str(e))} (a bug: rerun with --debug for the traceback)"


#: what an interrupted command saved (the line `main` prints on Ctrl-C)
INTERRUPTED = {
    "search": "finished generations are in the checkpoint (rerun with --resume)",
    "compare": "finished cells are saved; rerun the same command to resume",
}

#: library errors name settings; on the command line they are these flags
COMMON_FLAGS = {k: f"--{k}" for k in ("out", "resume", "executor", "workers", "address")}
FLAGS = {
    "train": dict(champion="--champion", target="--target", method="METHOD", init="--init", at="--at")
    | {"task.name": "--task"},
    "evaluate": {"task": "--task", "task.name": "--task"},
    "report": {"out": "--out"},
    "compare": {"slice.tasks": "--tasks", "slice.seeds": "--seeds"},
}


def one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"
