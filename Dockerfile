# wann: WANN search on Ray, CPU only. One image for every node of a cluster (head, workers, the
# job driver), so the Python patch version and the Ray version match everywhere (Ray compares them).
#
#   docker build -t wann:dev .
#   podman build --network host --build-arg BASE=localhost/debian-py311:bookworm -t wann:dev .
#
# BASE must provide `python3` with the `venv` module: the official python:3.11.7-slim (pinned patch
# version: Ray compares it), or a local Debian bookworm base (python3 + python3-venv) where no
# registry is reachable. The default is pinned by digest, so every build starts from the same bytes;
# the tag is kept in the reference for readers (with a digest, Docker and podman ignore the tag).
#   python:3.11.7-slim = python:3.11.7-slim-bookworm, multi-arch manifest list (index) digest
#   sha256:637774748f62b832dc11e7b286e48cd716727ed04b45a0322776c01bc526afc3
#   Update it with: docker buildx imagetools inspect python:3.11.7-slim   (the "Digest:" line)
# No secret goes into the image: the Ray token is given at run time (RAY_AUTH_TOKEN from the
# environment or a Kubernetes Secret).
ARG BASE=python:3.11.7-slim@sha256:637774748f62b832dc11e7b286e48cd716727ed04b45a0322776c01bc526afc3

# ---- build: a virtual environment at /opt/venv with Ray and the project --------------------------
FROM ${BASE} AS build
LABEL wann.stage=build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Every dependency comes from requirements.lock (made by cluster/lock.sh from pyproject.toml and
# cluster/image-requirements.in): exact versions and sha256 hashes, wheels only, pip and setuptools
# included, torch as the CPU build 2.13.0+cpu (torch from PyPI is the CUDA build: ~5 GB more).
# Layer cache: this layer (Ray, torch, ...) is rebuilt only when the lock changes.
# torch's wheel comes from TORCH_FIND_LINKS (download.pytorch.org's CPU index page) or, where that
# is unreachable, from a folder of wheels mounted into the build and named by TORCH_WHEELS
# (podman build -v /opt/wheels:/wheels:ro --build-arg TORCH_WHEELS=/wheels ...); the hash in the
# lock is checked either way, so no other file can be installed under that name.
COPY requirements.lock ./
ARG TORCH_FIND_LINKS=https://download.pytorch.org/whl/cpu/torch/
ARG TORCH_WHEELS=
# `python3 -m venv` works on both bases (the Debian one has no `python`, and no pip outside a venv)
RUN python3 -m venv /opt/venv \
 && pip install --no-cache-dir --require-hashes --only-binary=:all: \
        --find-links "${TORCH_WHEELS:-$TORCH_FIND_LINKS}" -r requirements.lock
COPY pyproject.toml README.md ./
COPY wann ./wann
# The project itself, with nothing more: no dependency resolution, no index, the build backend from
# the lock. `pip check` fails the build when the lock no longer satisfies pyproject.toml; then Ray's
# version, and that no CUDA build of torch and no nvidia-* package came in.
RUN pip install --no-cache-dir --no-deps --no-index --no-build-isolation . \
 && pip check \
 && python3 -c "import ray, wann.cli; assert ray.__version__ == '2.60.0', ray.__version__" \
 && python3 -c "import importlib.metadata as m, importlib.util as u, sys; \
t = u.find_spec('torch') and __import__('torch'); \
bad = sorted(d.metadata['Name'] for d in m.distributions() if d.metadata['Name'].lower().startswith('nvidia-')); \
sys.exit(f'CUDA torch {t.__version__} in the image' if t and t.version.cuda else f'{bad} in the image' if bad else 0)"

# ---- runtime ---------------------------------------------------------------------------------------
FROM ${BASE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAY_USAGE_STATS_ENABLED=0 \
    MPLBACKEND=Agg \
    NUMBA_CACHE_DIR=/tmp/numba-cache
# rsync and an SSH client are for `ray up` (cluster/ray-cluster.yaml): the launcher copies files into
# the container with rsync and the head's autoscaler reaches the workers over SSH. Login shells
# (which the launcher uses) reset PATH from /etc/profile: put the venv back there too.
# DL3008 (pin apt versions): these come from the base image's Debian release, whose exact package
# versions change with every point release; pinning them would break the build, not secure it.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends rsync openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && echo "export PATH=/opt/venv/bin:\$PATH" > /etc/profile.d/wann-venv.sh \
 && useradd --create-home --uid 1000 --user-group --shell /bin/bash wann
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=wann:wann experiments ./experiments
COPY --chown=wann:wann README.md ./
RUN chown wann:wann /app
USER 1000:1000
# 6379 GCS, 8265 dashboard + Jobs API, 10001 Ray client. Publish only 8265, only on loopback.
EXPOSE 6379 8265 10001
CMD ["wann", "--help"]
