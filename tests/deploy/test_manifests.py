"""deploy/k8s: every manifest and the rendered kustomization validate against Kubernetes' own schemas
(kubernetes-validate, strict: unknown fields are errors, offline: the package ships the schemas), and the
pieces fit together: probes on real paths, a Service behind every backend and CACHE_URL, a budget and an
autoscaler for every Deployment that scales, config keys the settings actually read."""
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

from salesassist import settings as settings_module

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
# A version kubernetes-validate bundles; the lowest the manifests need (the preStop `sleep` action: 1.30).
KUBERNETES_VERSION = "1.33.0"
CLUSTER_SCOPED = {"Namespace"}
SCALED_KINDS = {"Deployment"}


def load_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def render_kustomization() -> list[dict]:
    """What `kubectl kustomize deploy/k8s` renders, for the fields kustomization.yaml uses: its resources,
    their namespace and the image substitution. Any other field would be ignored here, so it is refused."""
    config = kustomization()
    assert set(config) <= {"apiVersion", "kind", "namespace", "resources", "images"}, "render it here too"
    images = {image["name"]: f"{image['newName']}:{image['newTag']}" for image in config.get("images", [])}
    rendered = []
    for resource in config["resources"]:
        for doc in load_documents(K8S / resource):
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = config["namespace"]
            pod = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                container["image"] = images.get(container["image"], container["image"])
            rendered.append(doc)
    return rendered


def by_kind(docs, kind):
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def containers(deployment):
    return deployment["spec"]["template"]["spec"]["containers"]


def config_data(docs):
    return by_kind(docs, "ConfigMap")["salesassist-config"]["data"]


MANIFESTS = sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def test_every_manifest_is_in_the_kustomization():
    assert sorted(kustomization()["resources"]) == MANIFESTS


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_validates_strictly(name):
    docs = load_documents(K8S / name)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_rendered_kustomization_validates_strictly():
    docs = render_kustomization()
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    namespace = kustomization()["namespace"]
    assert set(by_kind(docs, "Namespace")) == {namespace}
    assert {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"} == {namespace}


def test_a_strict_validation_refuses_an_unknown_field():
    # The validation above can fail: a misspelt field is an error, not ignored.
    deployment = by_kind(render_kustomization(), "Deployment")["worker"]
    deployment["spec"]["template"]["spec"]["terminationGracePeriod"] = 100
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.skipif(not shutil.which("kubectl"), reason="no kubectl here: the Python rendering alone is checked")
def test_python_rendering_matches_kubectl_kustomize():
    out = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=True)
    key = lambda doc: (doc["kind"], doc["metadata"]["name"])  # noqa: E731
    assert sorted(yaml.safe_load_all(out.stdout), key=key) == sorted(render_kustomization(), key=key)


def test_web_probes_use_the_health_endpoints_on_an_allowed_host():
    docs = render_kustomization()
    allowed = config_data(docs)["ALLOWED_HOSTS"].split(",")
    webs = {name: d for name, d in by_kind(docs, "Deployment").items() if name.startswith("web-")}
    assert set(webs) == {"web-default", "web-crm", "web-products", "web-action-engine"}
    for deployment in webs.values():
        (container,) = containers(deployment)
        paths = {}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            http = container[probe]["httpGet"]
            paths[probe] = http["path"]
            (host,) = [header["value"] for header in http["httpHeaders"] if header["name"] == "Host"]
            assert host in allowed or any(h.startswith(".") and host.endswith(h) for h in allowed)
            assert resolve(http["path"], urlconf="salesassist.urls.default").url_name in {"healthz_live", "healthz_ready"}
            # Probes speak plain HTTP to the pod: the path must be exempt from the HTTPS redirect.
            assert any(re.search(pattern, http["path"].lstrip("/")) for pattern in settings_module.SECURE_REDIRECT_EXEMPT)
        assert paths == {"startupProbe": "/healthz/live", "livenessProbe": "/healthz/live", "readinessProbe": "/healthz/ready"}


def test_every_deployment_has_resources_and_every_scaled_one_a_budget_and_an_autoscaler():
    docs = render_kustomization()
    budgets, autoscalers = by_kind(docs, "PodDisruptionBudget"), by_kind(docs, "HorizontalPodAutoscaler")
    for name, deployment in by_kind(docs, "Deployment").items():
        for container in containers(deployment):
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert "memory" in container["resources"]["limits"], name
        if name == "redis":
            continue  # one replica by design (redis.yaml): counters only
        labels = deployment["spec"]["selector"]["matchLabels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"] == labels
        target = autoscalers[name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert autoscalers[name]["spec"]["minReplicas"] > budgets[name]["spec"]["minAvailable"]
        # The autoscaler owns the replica count; a fixed one would be reset on every apply.
        assert "replicas" not in deployment["spec"]


def test_worker_probes_run_the_liveness_command():
    (container,) = containers(by_kind(render_kustomization(), "Deployment")["worker"])
    for probe in ("startupProbe", "livenessProbe"):
        program, manage_py, command = container[probe]["exec"]["command"]
        assert (program, manage_py) == ("python", "manage.py")
        assert command in get_commands()
        # Django's start-up alone takes a second or two; a probe timing out would restart a healthy pod.
        assert container[probe]["timeoutSeconds"] >= 10


def test_worker_grace_period_outlasts_its_own_bounded_stop():
    from salesassist.core.management.commands.worker import STOP_MARGIN_SECONDS

    docs = render_kustomization()
    config = config_data(docs)
    worker = by_kind(docs, "Deployment")["worker"]["spec"]["template"]["spec"]
    # `manage.py worker` exits at most this long after SIGTERM (it kills its own processes then).
    stop_bound = float(config["WORKER_SHUTDOWN_GRACE_SECONDS"]) + 2 * STOP_MARGIN_SECONDS
    assert worker["terminationGracePeriodSeconds"] > stop_bound


def test_ingress_backends_and_cache_url_point_at_services_of_the_kustomization():
    docs = render_kustomization()
    services = by_kind(docs, "Service")
    (ingress,) = by_kind(docs, "Ingress").values()
    assert ingress["spec"]["ingressClassName"]
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["port"]["name"] in {port["name"] for port in services[backend["name"]]["spec"]["ports"]}
    cache = re.fullmatch(r"redis://([\w-]+):(\d+)/\d+", config_data(docs)["CACHE_URL"])
    assert cache, "CACHE_URL must be a Redis URL: the rate limits are shared by every web pod"
    assert int(cache[2]) in {port["port"] for port in services[cache[1]]["spec"]["ports"]}


# Variables a library reads from the environment itself, not through the settings.
READ_BY_LIBRARIES = {"PROMETHEUS_MULTIPROC_DIR"}  # prometheus-client's multiprocess mode


def test_config_keys_are_variables_the_settings_read():
    source = Path(settings_module.__file__).read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', source))
    config = config_data(render_kustomization())
    assert set(config) - read - READ_BY_LIBRARIES == set()
    # Issue 10's shared throttles: every rate is stated where operators look for it.
    assert {name for name in read if name.startswith("THROTTLE_")} <= set(config)
    assert {"CACHE_URL", "NUM_PROXIES", "SECURE_PROXY_SSL_HEADER"} <= set(config)
