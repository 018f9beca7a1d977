#!/usr/bin/env bash
# Regenerate requirements.lock, the lock file the image installs from (pip --require-hashes), from
# pyproject.toml's dependencies plus cluster/image-requirements.in (torch's CPU build, the pinned
# build backend and pip). Run it after every change to pyproject.toml's dependencies; the stale-lock
# test in tests/test_deploy.py fails until you do.
#
#   pip install uv && cluster/lock.sh          # from the repository root (or anywhere: it cds there)
#
# Target: CPython 3.11 on Linux x86_64, glibc 2.36 (Debian bookworm: the python:3.11.7-slim base and
# the local debootstrap base). Every package from PyPI; torch 2.13.0+cpu from download.pytorch.org's
# CPU index page, or, where that is unreachable, from a folder holding
# torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl: WANN_TORCH_WHEELS=/opt/wheels cluster/lock.sh
# (the hash is the file's, the same either way). Wheels only (--only-binary): nothing is compiled.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
UV=${UV:-uv}
TORCH_LINKS=${WANN_TORCH_WHEELS:-https://download.pytorch.org/whl/cpu/torch/}

"$UV" pip compile pyproject.toml cluster/image-requirements.in \
    --output-file requirements.lock \
    --generate-hashes \
    --only-binary :all: \
    --python-version 3.11 \
    --python-platform x86_64-manylinux_2_36 \
    --index-url https://pypi.org/simple \
    --find-links "$TORCH_LINKS" \
    --custom-compile-command "cluster/lock.sh" \
    --quiet

# say where the file comes from and how to remake it, under uv's own two header lines
sed -i '2a\
#    (needs uv: pip install uv; see the top of cluster/lock.sh and cluster/README.md). It runs\
#    uv pip compile pyproject.toml cluster/image-requirements.in --generate-hashes --only-binary :all:\
#      --python-version 3.11 --python-platform x86_64-manylinux_2_36\
#      --find-links https://download.pytorch.org/whl/cpu/torch/   (torch 2.13.0+cpu; the rest from PyPI)\
#    Installed by the Dockerfile with pip install --require-hashes: do not edit by hand.' requirements.lock

# the CUDA build of torch must never come in: it would pull nvidia-* wheels
if grep -qiE '^nvidia-|^torch==[^ ]*\+cu' requirements.lock; then
    echo "requirements.lock: a CUDA torch or nvidia-* package got in" >&2
    exit 1
fi
echo "requirements.lock: $(grep -cE '^[a-z0-9]' requirements.lock) packages pinned with hashes"
