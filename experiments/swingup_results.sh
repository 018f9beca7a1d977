#!/usr/bin/env bash
# Reproduce experiments/results/swingup-paper/: five independent paper-scale searches (serial executor,
# seeds 0-4), one champion chosen on selection episodes, then `wann evaluate` on 100 fresh episodes.
# About 15 minutes per search on one core of this 2-core machine (two run at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
out=experiments/results/swingup-paper
mkdir -p "$out"
for s in 0 1 2 3 4; do
  [ -f "runs/swingup-paper-s$s/checkpoint.json" ] && resume=--resume || resume=
  "$BIN/wann" search experiments/swingup.toml --executor serial --seed "$s" --out "runs/swingup-paper-s$s" --quiet $resume &
  if (( s % 2 == 1 )); then wait; fi
done
wait
"$BIN/python" experiments/select_champion.py runs/swingup-paper-s{0,1,2,3,4} --out "$out/champion.json" | tee "$out/selection.txt"
"$BIN/wann" evaluate "$out/champion.json" --episodes 100 --json > "$out/evaluate.json"
"$BIN/wann" evaluate "$out/champion.json" --episodes 100
"$BIN/wann" show "$out/champion.json" --png "$out/champion.png"
for s in 0 1 2 3 4; do tail -n 1 "runs/swingup-paper-s$s/metrics.csv" | cut -d, -f1,11,24,25; done > "$out/run-times.csv"
