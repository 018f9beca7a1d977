#!/usr/bin/env bash
# Reproduce experiments/results/swingup/ (issue 15): twelve paper-size searches of
# experiments/swingup.toml (population 192 x 1024 generations, 6 x 3 rollouts; seeds 100-111),
# one per core, two at a time, each resumable (run the script again after a kill); then a
# champion chosen among each run's 8 latest champions on 50 selection episodes (by the smaller
# margin to the goals: mean over the six search weights 620, best shared weight 730; at most 60
# connections), then `wann evaluate --episodes 100` on fresh episodes, of the chosen one and of
# every run's own champion.json (the per-seed spread).
# The larger search of experiments/results/swingup-large/ (population 512 x 2048, layered rule):
#   EXP=experiments/swingup-champion.toml SEEDS="0 1 2 3" OUT=experiments/results/swingup-large \
#     bash experiments/swingup_champion.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
RUNS=${RUNS:-runs}
SEEDS=${SEEDS:-$(seq -s ' ' 100 111)}
EXP=${EXP:-experiments/swingup.toml}
out=${OUT:-experiments/results/swingup}
name=$(basename "$EXP" .toml)
mkdir -p "$out" "$RUNS"
t0=$(date +%s)
search() {
  local s=$1 dir="$RUNS/$name-s$1" resume=
  [ -f "$dir/checkpoint.json" ] && resume=--resume
  "$BIN/wann" search "$EXP" --executor serial --seed "$s" --out "$dir" --quiet $resume
}
export -f search; export BIN RUNS EXP name
printf '%s\n' $SEEDS | xargs -P 2 -I{} bash -c 'search {}'
t1=$(date +%s)
dirs=(); for s in $SEEDS; do dirs+=("$RUNS/$name-s$s"); done
"$BIN/python" experiments/select_champion.py "${dirs[@]}" --last 8 --targets 620 730 --max-connections 60 \
  --out "$out/champion.json" | tee "$out/selection.txt"
"$BIN/wann" evaluate "$out/champion.json" --episodes 100 --json > "$out/evaluate.json"
"$BIN/wann" evaluate "$out/champion.json" --episodes 100 | tee "$out/evaluate.txt"
"$BIN/wann" show "$out/champion.json" --png "$out/champion.png" --overwrite
t2=$(date +%s)
for s in $SEEDS; do  # every run's own champion.json on the same fresh episodes: the per-seed spread
  "$BIN/wann" evaluate "$RUNS/$name-s$s/champion.json" --episodes 100 --json > "$out/evaluate-s$s.json"
done
"$BIN/python" - "$out" "$RUNS/$name" $SEEDS <<'PY' | tee "$out/per-seed.csv"
import csv, json, sys
out, runs, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
print("seed,connections,search_values_mean,best_shared_weight,best_shared_mean,wall_s,cpu_s")
for s in seeds:
    r = json.load(open(f"{out}/evaluate-s{s}.json"))
    last = list(csv.DictReader(open(f"{runs}-s{s}/metrics.csv")))[-1]
    b = r["best_shared"]
    print(f"{s},{r['connections']},{r['search_values_mean']:.1f},{b['weight']:+.1f},{b['mean']:.1f},"
          f"{float(last['wall_s']):.0f},{float(last['cpu_s']):.0f}")
PY
cp "$RUNS/$name-s$("$BIN/python" -c "import json;print(json.load(open('$out/champion.json'))['meta']['seed'])")/metrics.csv" "$out/metrics-champion-run.csv"
echo "searches $((t1 - t0)) s wall, selection and evaluation $((t2 - t1)) s" | tee "$out/time.txt"
