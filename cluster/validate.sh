#!/usr/bin/env bash
# Opt-in end-to-end check of the deployment files (NOT run by CI: ~5 minutes, ~1 GB of disk, root).
#
#   sudo cluster/validate.sh            # from the repository root (or anywhere: it cds there)
#
# 1. installs podman, buildah, runc, podman-compose, debootstrap with apt if missing;
# 2. uses its own containers.conf (runc, not crun; fixed ulimits) through CONTAINERS_CONF;
# 3. builds a local base image localhost/debian-py311:bookworm with debootstrap if it is missing
#    (no container registry is needed; set WANN_BASE=python:3.11.7-slim to use the official one);
# 4. builds wann:dev from the top-level Dockerfile (pip inside the build uses the host network and
#    installs every dependency from requirements.lock with --require-hashes), and checks that the
#    image holds exactly the lock's versions;
# 5. generates a random token and brings up cluster/compose.yaml (a head and two workers);
# 6. waits for 3 nodes, submits a 5-generation swing-up search as a Ray job from the host with the
#    token, checks it succeeded and that evaluations ran on more than one node (metrics.csv,
#    column nodes_used), checks that the same submission without the token / with a wrong token
#    is refused, that only 8265 is published, only on 127.0.0.1, and that every container runs
#    with no-new-privileges, no capabilities and a read-only root file system;
# 7. tears the cluster down (also on failure or Ctrl-C).
#
# Key lines start with PASS / FAIL / INFO. Exit status 0 only when every check passed.
# Environment: WANN_BASE (base image; the Dockerfile's default is python:3.11.7-slim pinned by digest),
# WANN_KEEP_IMAGE=0 (remove wann:dev at the end),
# WANN_VALIDATE_GENERATIONS (default 5), WANN_VALIDATE_LOGS=DIR (keep the build/job logs there).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
COMPOSE_FILE=cluster/compose.yaml
PROJECT=wann-validate
LOCAL_BASE=localhost/debian-py311:bookworm
BASE=${WANN_BASE:-$LOCAL_BASE}
IMAGE=wann:dev
GENERATIONS=${WANN_VALIDATE_GENERATIONS:-5}
WORK=$(mktemp -d /tmp/wann-validate.XXXXXX)
chmod 700 "$WORK"
FAILED=0
T_START=$(date +%s)

info() { echo "INFO $*"; }
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILED=1; }
die() { echo "FAIL $*"; exit 1; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

compose() { podman-compose -p "$PROJECT" -f "$COMPOSE_FILE" "$@"; }

cleanup() {
    local rc=$?
    set +e
    if [ -n "${CLUSTER_UP:-}" ]; then
        if [ "$FAILED" -ne 0 ] || [ "$rc" -ne 0 ]; then
            info "last lines of the head's log:"
            podman logs --tail 30 "${PROJECT}_ray-head_1" 2>&1 | sed 's/^/    /'
        fi
        compose down >"$WORK/down.log" 2>&1
        podman network rm -f "${PROJECT}_default" >/dev/null 2>&1
        if podman ps -a --format '{{.Names}}' | grep -q "^${PROJECT}_"; then
            echo "FAIL teardown: containers of $PROJECT are left (podman ps -a)"
            rc=1
        else
            info "teardown: compose down, no container left"
        fi
    fi
    if [ "${WANN_KEEP_IMAGE:-1}" = "0" ]; then
        podman rmi -f "$IMAGE" >/dev/null 2>&1
        podman image prune -f --filter label=wann.stage=build >/dev/null 2>&1  # the build stage
    fi
    if [ -n "${WANN_VALIDATE_LOGS:-}" ]; then
        mkdir -p "$WANN_VALIDATE_LOGS" && cp "$WORK"/*.log "$WORK"/metrics.csv "$WANN_VALIDATE_LOGS"/ 2>/dev/null
    fi
    rm -rf "$WORK"
    info "total $(($(date +%s) - T_START)) s"
    if [ "$rc" -eq 0 ] && [ "$FAILED" -eq 0 ]; then echo "PASS validate.sh: all checks passed"; else echo "FAIL validate.sh"; fi
    exit $((rc != 0 || FAILED != 0))
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. tools --------------------------------------------------------------------------------------
missing=()
for tool in podman buildah runc podman-compose debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    info "installing ${missing[*]} with apt"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq podman buildah runc podman-compose debootstrap >/dev/null
fi
info "$(podman --version), podman-compose $(podman-compose version 2>/dev/null | awk '/podman-compose/{print $NF}' | head -1), $(runc --version | head -1)"

# ---- 2. container engine settings (crun fails here with "cgroups in hybrid mode"; rlimits cannot
#        be raised past the host's, so fix them) -------------------------------------------------------
cat >"$WORK/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=8192:8192", "nproc=4096:4096"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$WORK/containers.conf"
[ "$(podman info --format '{{.Host.OCIRuntime.Name}}')" = runc ] || die "podman does not use runc with $CONTAINERS_CONF"

if [ -n "$(ss -Hltn 'sport = :8265' 2>/dev/null)" ]; then
    die "port 8265 is already in use on this machine (another Ray dashboard?); stop it first"
fi

# ---- 3. local base image ------------------------------------------------------------------------
if [ "$BASE" = "$LOCAL_BASE" ] && ! podman image exists "$LOCAL_BASE"; then
    info "building $LOCAL_BASE with debootstrap (~1-2 minutes)"
    t0=$(date +%s)
    rootfs="$WORK/rootfs"
    nice -n 10 $SUDO debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; die "debootstrap"; }
    $SUDO rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    $SUDO tar -C "$rootfs" -c . | podman import - "$LOCAL_BASE" >/dev/null 2>&1
    $SUDO rm -rf "$rootfs"
    pass "base image $LOCAL_BASE built in $(($(date +%s) - t0)) s"
else
    info "base image $BASE"
fi

# ---- 4. the image -----------------------------------------------------------------------------------
# torch (when pyproject.toml requires it) must be the CPU build: from download.pytorch.org, or,
# where that is unreachable, from a local folder of wheels (WANN_TORCH_WHEELS, default /opt/wheels)
torch_args=()
wheels=${WANN_TORCH_WHEELS:-/opt/wheels}
if [ -n "${WANN_TORCH_WHEELS:-}" ] || ! python3 -c "import socket; socket.getaddrinfo('download.pytorch.org', 443)" 2>/dev/null; then
    if compgen -G "$wheels/torch-*+cpu-*.whl" >/dev/null; then
        torch_args=(-v "$wheels:/wheels:ro" --build-arg TORCH_WHEELS=/wheels)
        info "torch CPU wheels from $wheels (download.pytorch.org unreachable or WANN_TORCH_WHEELS set)"
    else
        info "download.pytorch.org unreachable and no torch-*+cpu-*.whl in $wheels: the build fails if torch is required"
    fi
fi
info "building $IMAGE from Dockerfile (BASE=$BASE)"
t0=$(date +%s)
if ! nice -n 10 podman build --network host -v /etc/ssl/certs:/etc/ssl/certs:ro "${torch_args[@]}" \
        --build-arg "BASE=$BASE" -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
    tail -30 "$WORK/build.log"
    die "podman build"
fi
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
pass "image $IMAGE built in $(($(date +%s) - t0)) s, $((size / 1000000)) MB"
img_env=$(podman image inspect "$IMAGE" --format '{{.Config.Env}}')
img_user=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
if [[ "$img_env" == *RAY_AUTH_TOKEN* ]]; then fail "the image sets RAY_AUTH_TOKEN"; fi
if [ -z "$img_user" ] || [ "$img_user" = root ] || [[ "$img_user" == 0* ]]; then
    fail "image user is '${img_user:-root}'"
else
    pass "image runs as user $img_user, no token in its environment"
fi
versions=$(podman run --rm "$IMAGE" python3 -c 'import sys, ray, importlib.util as u
t = __import__("torch") if u.find_spec("torch") else None
print(f"python {sys.version.split()[0]}, ray {ray.__version__}, torch {t.__version__ if t else None} (cuda {t.version.cuda if t else None})")')
info "image: $versions"
# the image holds exactly the lock's versions (pip freeze against requirements.lock)
if podman run --rm "$IMAGE" pip list --format=freeze >"$WORK/freeze.txt" 2>/dev/null; then
    drift=$(python3 - "$ROOT/requirements.lock" "$WORK/freeze.txt" <<'EOF'
import re, sys
def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()
lock = {norm(n): v for n, v in re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", open(sys.argv[1]).read(), re.M)}
got = {norm(n): v for n, v in (ln.strip().split("==", 1) for ln in open(sys.argv[2]) if "==" in ln)}
got.pop("wann", None)
print("; ".join(sorted(f"{n}: lock {lock.get(n)}, image {got.get(n)}" for n in set(lock) | set(got) if lock.get(n) != got.get(n))))
EOF
)
    if [ -z "$drift" ]; then
        pass "image: every installed package is the lock's version ($(grep -cE '^[a-z0-9]' requirements.lock) pins)"
    else
        fail "image differs from requirements.lock: $drift"
    fi
else
    fail "image: pip list failed"
fi
# `ray up` runs its commands in login shells and copies files with rsync; its head uses ssh
if podman run --rm "$IMAGE" bash --login -c 'command -v ray wann rsync ssh' >/dev/null 2>&1; then
    pass "image: ray, wann, rsync, ssh on PATH in a login shell (what \`ray up\` uses)"
else
    fail "image: ray/wann/rsync/ssh missing from a login shell's PATH"
fi

# ---- 5. the compose cluster ------------------------------------------------------------------------
RAY_AUTH_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export RAY_AUTH_TOKEN
info "bringing up $COMPOSE_FILE (project $PROJECT) with a fresh random token"
CLUSTER_UP=1
compose up -d --no-build >"$WORK/up.log" 2>&1 || { tail -20 "$WORK/up.log"; die "podman-compose up"; }
HEAD="${PROJECT}_ray-head_1"

t0=$(date +%s)
nodes=0
while [ $(($(date +%s) - t0)) -lt 240 ]; do
    nodes=$(podman exec "$HEAD" python3 -c '
import ray
ray.init(address="auto", logging_level="ERROR", log_to_driver=False)
print(sum(1 for n in ray.nodes() if n["Alive"]))' 2>/dev/null | tail -1 || true)
    [ "${nodes:-0}" = 3 ] && break
    sleep 5
done
if [ "${nodes:-0}" = 3 ]; then
    pass "cluster up: 3 nodes alive after $(($(date +%s) - t0)) s"
else
    die "cluster: ${nodes:-0} nodes alive after 240 s (wanted 3)"
fi

ports=$(podman ps --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}} {{.Ports}}')
published=$(echo "$ports" | grep -o '[0-9.]*:[0-9]*->[0-9]*/tcp' | sort -u | tr '\n' ' ')
if [ "$published" = "127.0.0.1:8265->8265/tcp " ]; then
    pass "only the dashboard/Jobs API is published, on loopback: $published"
else
    fail "published ports: '$published' (wanted only 127.0.0.1:8265->8265/tcp)"
fi

# hardening from compose.yaml, as the kernel sees it in every container: NoNewPrivs set, no
# capability in the bounding or effective set, and a root file system that refuses writes
hardened=0
for c in $(podman ps --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}}'); do
    status=$(podman exec "$c" grep -E '^(NoNewPrivs|CapEff|CapBnd):' /proc/1/status | tr -s '\t ' ' ' | tr '\n' ' ')
    if [[ "$status" != *"NoNewPrivs: 1"* || "$status" != *"CapEff: 0000000000000000"* \
            || "$status" != *"CapBnd: 0000000000000000"* ]]; then
        fail "$c: $status (wanted NoNewPrivs 1, no capabilities)"
    elif podman exec "$c" touch /app/.write-probe 2>/dev/null; then
        fail "$c: the root file system is writable"
    else
        hardened=$((hardened + 1))
    fi
done
if [ "$hardened" -eq 3 ]; then
    pass "3 containers: no-new-privileges, no capabilities, read-only root (writes only to /tmp, /dev/shm)"
fi

# ---- 6. the job -------------------------------------------------------------------------------------
RAY_CLI="$ROOT/.venv/bin/ray"
ENTRY=(wann search experiments/swingup-smoke.toml --generations "$GENERATIONS" --out /tmp/wann-job)
# submit "CLIENT ENV" [ray job submit options...]: from the host if its ray CLI is here (Ray 2.60),
# else from inside the head container. CLIENT ENV: arguments of env(1) for the submitting client.
submit() {
    local client_env=$1
    shift
    # shellcheck disable=SC2086  # client_env is a list of env(1) arguments without spaces
    if [ -x "$RAY_CLI" ]; then
        env $client_env "$RAY_CLI" job submit --address http://127.0.0.1:8265 "$@" -- "${ENTRY[@]}"
    else
        podman exec "$HEAD" env $client_env ray job submit --address http://127.0.0.1:8265 "$@" -- "${ENTRY[@]}"
    fi
}
if [ -x "$RAY_CLI" ]; then
    info "submitting from the host ($("$RAY_CLI" --version | head -1))"
else
    info "no host ray CLI at $RAY_CLI: submitting from inside the head container"
fi
t0=$(date +%s)
if submit "RAY_AUTH_MODE=token" --submission-id "wann-validate-$$" >"$WORK/job.log" 2>&1 \
        && grep -q "succeeded" "$WORK/job.log"; then
    pass "job wann-validate-$$ succeeded in $(($(date +%s) - t0)) s: ${ENTRY[*]}"
else
    tail -40 "$WORK/job.log"
    fail "job wann-validate-$$ did not succeed"
fi
grep -E "succeeded|generation +[0-9]+|gen +[0-9]+" "$WORK/job.log" | tail -3 | sed 's/^/    /' || true

if podman exec "$HEAD" cat /tmp/wann-job/metrics.csv >"$WORK/metrics.csv" 2>/dev/null; then
    summary=$(python3 - "$WORK/metrics.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
used = [int(float(r["nodes_used"])) for r in rows]
print(len(rows), max(used), ",".join(map(str, used)))
EOF
)
    read -r gens maxnodes perrow <<<"$summary"
    if [ "$gens" = "$GENERATIONS" ] && [ "$maxnodes" -ge 2 ]; then
        pass "metrics.csv: $gens generations, nodes_used per generation = $perrow (max $maxnodes >= 2)"
    else
        fail "metrics.csv: $gens generations (wanted $GENERATIONS), nodes_used = $perrow (wanted >= 2)"
    fi
else
    fail "no /tmp/wann-job/metrics.csv in the head container"
fi

# the same submission without the token, and with a wrong one: refused, nothing run
refusal() {  # the most telling line of a refused submission's output
    { grep -m1 -E "Error: .*(Unauthori[sz]ed|Forbidden|token)" "$1" || grep -i -m1 -E "401|403|token" "$1" || tail -1 "$1"; } \
        | sed 's/\x1b\[[0-9;]*m//g; s/^[[:space:]]*//' | cut -c1-160
}
NO_TOKEN="-u RAY_AUTH_TOKEN -u RAY_AUTH_MODE -u RAY_AUTH_TOKEN_PATH HOME=/nonexistent"
if submit "$NO_TOKEN" --submission-id "wann-validate-$$-notoken" >"$WORK/notoken.log" 2>&1; then
    fail "the submission without a token was accepted"
else
    why=$(refusal "$WORK/notoken.log")
    pass "submission without the token refused ($why)"
fi
if submit "$NO_TOKEN RAY_AUTH_MODE=token RAY_AUTH_TOKEN=wrong-token-$$" --submission-id "wann-validate-$$-wrong" \
        >"$WORK/wrongtoken.log" 2>&1; then
    fail "the submission with a wrong token was accepted"
else
    why=$(refusal "$WORK/wrongtoken.log")
    pass "submission with a wrong token refused ($why)"
fi
jobs_seen=$(podman exec "$HEAD" ray job list --address http://127.0.0.1:8265 2>/dev/null \
    | grep -o "wann-validate-[0-9a-z-]*" | sort -u | tr '\n' ' ' || true)
info "jobs known to the cluster: ${jobs_seen:-?}"
if [[ "$jobs_seen" == *notoken* || "$jobs_seen" == *wrong* ]]; then fail "a refused submission was recorded as a job"; fi
