"""The `wann` command: search | show | evaluate | train | compare | report | plot | tasks | bench.

- `wann.cli.parser`: every command, flag and help text (`build_parser`);
- `wann.cli.commands`: the commands that run work (search, train, compare, report, bench) and
  the command table `COMMANDS`;
- `wann.cli.inspect`: show, evaluate (genome and network files alike) and plot;
- `wann.cli.catalog`: tasks;
- `wann.cli.errors`: an exception as an exit code and one line (`describe_error`).
"""

from __future__ import annotations

import signal
import sys
import threading

from wann.cli.commands import COMMANDS
from wann.cli.errors import COMMON_FLAGS, FLAGS, INTERRUPTED, describe_error
from wann.cli.parser import build_parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: a run stops as on Ctrl-C (nothing finished is lost)."""


_terminated = threading.Event()  # set by the handler: code between may re-raise a plain KeyboardInterrupt


def _on_sigterm(signum, frame):
    _terminated.set()
    raise Terminated()


def _interrupted(command: str | None) -> int:
    hint = INTERRUPTED.get(command or "", "nothing was saved")
    lead = "\n" if sys.stderr.isatty() else ""  # ends a progress line that rewrites itself
    term = _terminated.is_set()
    print(f"{lead}{'terminated' if term else 'interrupted'}; {hint}", file=sys.stderr)
    return 143 if term else 130


def _is_interrupt(e: BaseException | None) -> bool:
    """True for a KeyboardInterrupt, or an error it caused (Ctrl-C inside a compiled kernel
    surfaces as a SystemError whose cause is the KeyboardInterrupt)."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 done, 1 finished with failures (a study's failed cells) or
    an internal error, 2 bad input or an environment problem (one line on stderr, nothing
    changed on disk), 130 interrupted, 143 terminated (SIGTERM; one line on stderr). ``--debug``
    shows the traceback of any error. SIGINT always interrupts, even when the process was
    started with it ignored (a shell's background job inherits SIGINT ignored): ``kill -INT``
    then stops a run cleanly; SIGTERM (``kill``, a scheduler's stop) stops it the same way."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _on_sigterm)
        _terminated.clear()
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        return _interrupted(None)
    where = f"wann {args.command}"
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return _interrupted(args.command)
    except Exception as e:
        if _is_interrupt(e):
            return _interrupted(args.command)
        if args.debug:
            raise
        code, line = describe_error(e, args.command)
        print(f"{where}: error: {line}", file=sys.stderr)
        return code


__all__ = ["COMMANDS", "COMMON_FLAGS", "FLAGS", "build_parser", "describe_error", "main"]
