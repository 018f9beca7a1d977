# wann: WANN search on Ray, CPU only. One image for every node of a cluster (head, workers, the
# job driver), so the Python patch version and the Ray version match everywhere (Ray compares them).
#
#   docker build -t wann:dev .
#   podman build --network host --build-arg BASE=localhost/debian-py311:bookworm -t wann:dev .
#
# BASE must provide `python3` with the `venv` module: the official python:3.11.7-slim (pinned patch
# version), or a local Debian bookworm base (python3 + python3-venv) where no registry is reachable.
# No secret goes into the image: the Ray token is given at run time (RAY_AUTH_TOKEN from the
# environment or a Kubernetes Secret).
ARG BASE=python:3.11.7-slim

# ---- build: a virtual environment at /opt/venv with Ray and the project --------------------------
FROM ${BASE} AS build
LABEL wann.stage=build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
# `python3 -m venv` works on both bases (the Debian one has no `python`, and no pip outside a venv)
RUN python3 -m venv /opt/venv \
 && pip install --no-cache-dir --upgrade "pip==25.1.1"
# Ray first: the largest layer, kept in the build cache when only the project changes
RUN pip install --no-cache-dir "ray[default]==2.60.0"
WORKDIR /src
COPY pyproject.toml README.md ./
# torch, only if pyproject.toml's dependencies ask for it, and then the CPU build with the pin from
# pyproject.toml (torch from PyPI is the CUDA build: ~5 GB more). From TORCH_INDEX_URL, or, where
# that is unreachable, from a folder of wheels mounted into the build and named by TORCH_WHEELS
# (podman build -v /opt/wheels:/wheels:ro --build-arg TORCH_WHEELS=/wheels ...).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_WHEELS=
# DL3013 (pin pip versions): "$torch_req" is pyproject.toml's own pinned requirement (torch==X.Y.Z).
# hadolint ignore=DL3013
RUN torch_req=$(python3 -c "import re, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
print(next((d.split(';')[0].strip() for d in deps if re.split(r'[^A-Za-z0-9_.-]', d)[0].lower() == 'torch'), ''))") \
 && if [ -z "$torch_req" ]; then echo "torch: not a dependency"; \
    elif [ -n "$TORCH_WHEELS" ]; then pip install --no-cache-dir --no-deps --no-index --find-links "$TORCH_WHEELS" "$torch_req"; \
    else pip install --no-cache-dir --no-deps --index-url "$TORCH_INDEX_URL" "$torch_req"; fi
COPY wann ./wann
# the project and its remaining dependencies (versions bounded in pyproject.toml; Ray stays pinned);
# then check Ray's version and that no CUDA build of torch came in
RUN pip install --no-cache-dir . "ray[default]==2.60.0" \
 && python3 -c "import ray, wann.cli; assert ray.__version__ == '2.60.0', ray.__version__" \
 && python3 -c "import importlib.util as u, sys; t = u.find_spec('torch') and __import__('torch'); \
sys.exit(f'CUDA torch {t.__version__} in the image' if t and t.version.cuda else 0)"

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
