#!/usr/bin/env bash
# Reproduce experiments/results/<task>/ for the shipped tasks (issue 4): each experiment file run with
# the serial executor (two searches at a time on this 2-core machine), then `wann evaluate` of its
# champion. Slow pool-based tasks (LunarLander, BipedalWalker) are evaluated on fewer episodes.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
run() {  # task-file  evaluate-episodes  selection-episodes
  local name=$1 eps=$2 sel=$3 out=runs/results-$1 res=experiments/results/$1
  [ -f "$out/checkpoint.json" ] && resume=--resume || resume=
  /usr/bin/time -f "%e" -o "runs/results-$name.time" \
    "$BIN/wann" search "experiments/$name.toml" --executor serial --out "$out" --quiet $resume
  mkdir -p "$res"
  cp "$out/champion.json" "$res/champion.json"
  cp "$out/experiment.toml" "$res/experiment.toml"
  "$BIN/wann" evaluate "$res/champion.json" --episodes "$eps" --selection-episodes "$sel" --json > "$res/evaluate.json"
  tail -n 1 "$out/metrics.csv" | cut -d, -f1 > /dev/null
  python3 - "$out" "$res" "runs/results-$name.time" <<'PY'
import csv, json, sys
out, res, tfile = sys.argv[1:]
rows = list(csv.DictReader(open(f"{out}/metrics.csv")))
last = rows[-1]
json.dump({"generations": len(rows), "episodes": int(last["total_episodes"]), "env_steps": int(last["total_env_steps"]),
           "wall_s": float(open(tfile).read().split()[-1]), "cpu_s": float(last["cpu_s"])},
          open(f"{res}/budget.json", "w"), indent=1)
PY
}
(run digits 100 1; run cartpole 100 50; run wine 100 1; run mountaincar 100 20; run pendulum 100 20) &
(run acrobot 100 20; run lunarlander 30 10; run bipedal 20 5) &
wait
