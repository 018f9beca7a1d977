"""The watchdog of a local Ray session: a tiny separate process (stdlib + psutil, no Ray) that
ends what is left of the session when the driver that started it is gone.

"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import ray
from ray.exceptions import RayActorError

try:  # Ray >= 2.x
    from ray.exceptions import ActorUnavailableError
except ImportError:  # pragma: no cover
    ActorUnavailableError = RayActorError


# The watchdog: a tiny separate process (stdlib + psutil, no Ray import) that learns the Ray
# processes of one session (descendants of the driver whose command line names the session
# folder, and their descendants) and kills what is left of them once the driver is gone or the
# session's GCS has exited. Without it, Ray's agents keep listening ~60 s after a SIGKILLed driver
# (they block on a 60 s call to the dead GCS before exiting).
_WATCHDOG_SRC = r"""
import os, select, signal, sys, time
import psutil
driver, marker, gcs = psutil.Process(int(sys.argv[1])), sys.argv[2], int(sys.argv[3])
me, known = os.getpid(), {}
def alive(p):
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
def scan():
    try:
        kids = [p for p in driver.children(recursive=True) if p.pid != me]
    except psutil.Error:
        return
    info = {}
    for p in kids:
        try:
            info[p.pid] = (p, p.ppid(), " ".join(p.cmdline()))
        except psutil.Error:
            pass
    inside = {pid for pid, (_, _, cl) in info.items() if marker in cl} | set(known)
    grew = True
    while grew:
        more = {pid for pid, (_, ppid, _) in info.items() if ppid in inside and pid not in inside}
        inside |= more
        grew = bool(more)
    for pid in inside:
        if pid in info and pid not in known:
            known[pid] = info[pid][0]
gcs_proc = psutil.Process(gcs) if psutil.pid_exists(gcs) else None
start = next_scan = time.monotonic()
while True:
    now = time.monotonic()
    if now >= next_scan:  # often while the session starts up, then every 2 s (~0.3% of a core)
        scan()
        next_scan = now + (0.5 if now - start < 15 else 2.0)
    r, _, _ = select.select([sys.stdin], [], [], 0.5)
    if r and not os.read(sys.stdin.fileno(), 1024):
        break
    if not alive(driver):
        break
    if gcs_proc is None or not alive(gcs_proc):
        time.sleep(2.0)  # an orderly ray.shutdown(): let Ray finish on its own first
        break
left = [p for p in known.values() if alive(p)]
for p in left:
    try:
        p.send_signal(signal.SIGTERM)
    except psutil.Error:
        pass
gone, left = psutil.wait_procs(left, timeout=1.0)
for p in left:
    try:
        p.kill()
    except psutil.Error:
        pass
"""

_watchdog: subprocess.Popen | None = None


def stop_watchdog() -> None:
    """Tell the watchdog of an earlier session to clean up now (it exits after)."""
    global _watchdog
    if _watchdog is not None:
        with contextlib.suppress(OSError, ValueError):
            _watchdog.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            _watchdog.wait(timeout=5)
        _watchdog = None


def start_watchdog() -> None:
    global _watchdog
    stop_watchdog()
    node = ray._private.worker._global_node
    try:
        gcs = node.all_processes["gcs_server"][0].process.pid
        session = node.get_session_dir_path()
    except (AttributeError, KeyError, IndexError):
        return
    try:
        _watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG_SRC, str(os.getpid()), session, str(gcs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or killpg of the driver's group must not stop it
            close_fds=True,
        )
    except OSError:  # best effort: without it Ray's own (slower) cleanup still happens
        _watchdog = None
