#!/usr/bin/env bash
# The counterparts' checks against known numbers (issue 5), written to experiments/results/baselines/.
#   swing-up 5-10-1 dense, CMA-ES, 60,000 training episodes: >= 900 over 100 fresh episodes, < 5 min
#   digits 64-128-10 dense (Adam, 60 epochs): >= 97 % test accuracy; pruned to 10 % of its
#   connections (961 of 9,610, biases included) by iterative magnitude pruning: >= 96 %
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
out=experiments/results/baselines
mkdir -p "$out"
rm -rf runs/check-swingup-dense runs/check-digits
/usr/bin/time -f "%e s wall" "$BIN/wann" train dense --task wann/CartPoleSwingUp-v0 --budget 60000 --seed 0 \
    --out runs/check-swingup-dense 2>&1 | tee "$out/swingup-dense.txt"
/usr/bin/time -f "%e s wall" "$BIN/wann" train lottery_ticket --task digits --budget 60 --target 961 --seed 0 \
    --out runs/check-digits 2>&1 | tee "$out/digits-pruned.txt"
cp runs/check-swingup-dense/result.json "$out/swingup-dense.json"
cp runs/check-digits/result.json "$out/digits-pruned.json"
