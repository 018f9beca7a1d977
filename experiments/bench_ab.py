"""Evaluation speed of this checkout against an earlier commit, measured alternately.

    python experiments/bench_ab.py [--base REV] [--rounds 2] [--quick]

Checks REV (default 199c825, the kernel before issue 15's second session) out into a temporary
folder, then runs ``wann bench --json`` of each, alternately, ``--rounds`` times (each in its own
process and numba cache, so neither reuses the other's compiled code), and prints per workload
both rates (median over rounds) and the ratio now / base. A third column runs this checkout with
``WANN_LLVM_DEFAULTS=1`` (LLVM's own vectorisation plan), which isolates the vector-width
setting from the other changes. The machine may be shared: the ratios, measured minutes apart,
are the claim.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench(src: Path, cache: Path, quick: bool, extra_env: dict[str, str] | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(cache), **(extra_env or {})}
    cmd = [sys.executable, "-m", "wann.cli", "bench", "--json", *(["--quick"] if quick else [])]
    out = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def rate(r: dict) -> float:
    return r.get("network_steps_per_cpu_s", float("nan"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="199c825")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(base)], check=True)
        subprocess.run(["git", "-C", str(base), "checkout", "-q", a.base], check=True)
        runs: dict[str, list[dict]] = {"base": [], "now": [], "now_llvm_defaults": []}
        for k in range(a.rounds):
            print(f"round {k + 1}/{a.rounds} ...", file=sys.stderr, flush=True)
            runs["base"].append(bench(base, Path(tmp) / "c-base", a.quick))
            runs["now"].append(bench(ROOT, Path(tmp) / "c-now", a.quick))
            runs["now_llvm_defaults"].append(bench(ROOT, Path(tmp) / "c-def", a.quick, {"WANN_LLVM_DEFAULTS": "1"}))
    names = [k for k, v in runs["now"][0].items() if isinstance(v, dict) and "network_steps_per_cpu_s" in v]
    print(f"network-timesteps per CPU-second, median of {a.rounds} alternating rounds; base = {a.base}")
    print(f"{'workload':28s} {'base':>10s} {'now':>10s} {'now/base':>9s} {'LLVM defaults':>14s} {'now/defaults':>13s}")
    table = {}
    for n in names:
        b, c, d = (statistics.median(rate(r[n]) for r in runs[key] if n in r) for key in runs)
        table[n] = {"base": b, "now": c, "llvm_defaults": d, "now_over_base": c / b, "now_over_defaults": c / d}
        print(f"{n:28s} {b / 1e6:8.2f} M {c / 1e6:8.2f} M {c / b:8.2f}x {d / 1e6:12.2f} M {c / d:12.2f}x")
    print(json.dumps(table))


if __name__ == "__main__":
    main()
