"""The GitOps chain offline, for both runtimes: kustomize -> substitution -> ResourceSet
(flux-operator's rendering) -> HelmRelease values -> Helm -> every object validated."""

import copy
import re

import pytest
import yaml

from harness.chain.render import (
    RenderError,
    harness_env,
    harness_objects,
    helm_template,
    ingress_shim_certificates,
    install,
    kustomize,
    render_resourceset,
    seed_shaped,
    substitute,
)
from harness.kube import Invalid, find, name_of, the, validate

RUNTIMES = ["spin", "native"]


def chain(runtime: str, **env_overrides: str):
    """Every object of every stage, for one runtime."""
    env = harness_env(APP_RUNTIME=runtime, **env_overrides)
    harness = harness_objects(env)
    generated = render_resourceset(the(harness, "ResourceSet", "hello-world"), harness)
    installed = [obj for release in find(generated, "HelmRelease") for obj in install(release)]
    certificates = ingress_shim_certificates(installed)
    return env, harness, generated, installed, certificates


@pytest.fixture(scope="module", params=RUNTIMES)
def stages(request):
    return chain(request.param)


def test_every_object_of_every_stage_is_valid(stages):
    _, harness, generated, installed, certificates = stages
    objects = harness + generated + installed + certificates
    kinds = {o["kind"] for o in objects}
    assert {
        "ResourceSet",
        "ResourceSetInputProvider",
        "OCIRepository",
        "HelmRelease",
        "Service",
        "Ingress",
        "Certificate",
    } <= kinds
    for obj in objects:
        validate(obj)


def test_the_resourceset_permutes_two_providers_into_one_pair_per_tenant_and_cluster(stages):
    env, harness, generated, _, _ = stages
    resourceset = the(harness, "ResourceSet", "hello-world")
    assert resourceset["spec"]["inputStrategy"]["name"] == "Permute"
    names = [ref["name"] for ref in resourceset["spec"]["inputsFrom"]]
    assert names == ["tenant-config", "cluster-config"]
    platform = ["Namespace", "SpinAppExecutor"] if env["APP_RUNTIME"] == "spin" else ["Namespace"]
    assert sorted(o["kind"] for o in generated) == sorted(["HelmRelease", "OCIRepository", *platform])
    for obj in generated:
        # flux-operator labels what it applies with its owner, as the controller does.
        assert obj["metadata"]["labels"]["resourceset.fluxcd.controlplane.io/name"] == "hello-world"


def test_oci_repository_pulls_the_chart_at_the_version(stages):
    env, _, generated, _, _ = stages
    repo = the(generated, "OCIRepository", f"{env['APP_NAME']}-{env['APP_CUSTOMER']}")
    spec = repo["spec"]
    assert spec["url"] == f"oci://{env['APP_CHART_REGISTRY']}/hello-world"
    assert spec["ref"] == {"semver": env["APP_CHART_VERSION"]}
    assert spec["secretRef"] == {"name": "image-pull-secret"}
    assert spec["interval"] == "5m"
    assert "insecure" not in spec  # a production registry speaks HTTPS


def test_a_chart_registry_marked_insecure_is_pulled_over_plain_http():
    # CI's cluster job pushes the chart to a registry inside the cluster that speaks HTTP.
    harness = harness_objects()
    tenant = the(harness, "ResourceSetInputProvider", "tenant-config")
    tenant["spec"]["defaultValues"]["app"]["chart"]["insecure"] = True
    generated = render_resourceset(the(harness, "ResourceSet", "hello-world"), harness)
    repo = the(generated, "OCIRepository")
    assert repo["spec"]["insecure"] is True
    validate(repo)


def render_with(tenant_app: dict | None = None, cluster: dict | None = None, runtime: str = "native") -> list[dict]:
    """The ResourceSet's objects with `tenant_app` merged into tenant_config.app and `cluster`
    into cluster_config."""
    harness = harness_objects(harness_env(APP_RUNTIME=runtime))
    app = the(harness, "ResourceSetInputProvider", "tenant-config")["spec"]["defaultValues"]["app"]
    for key, value in (tenant_app or {}).items():
        app[key] = {**app.get(key, {}), **value} if isinstance(value, dict) else value
    the(harness, "ResourceSetInputProvider", "cluster-config")["spec"]["defaultValues"].update(cluster or {})
    return render_resourceset(the(harness, "ResourceSet", "hello-world"), harness)


def test_a_cluster_that_verifies_by_key_gives_the_oci_repository_cosign_and_the_key_secret():
    repo = the(render_with(cluster={"verify": {"publicKeySecret": "release-signing-key"}}), "OCIRepository")
    assert repo["spec"]["verify"] == {"provider": "cosign", "secretRef": {"name": "release-signing-key"}}
    validate(repo)


def test_a_cluster_that_verifies_keyless_matches_the_release_workflows_identity():
    identity = {
        "issuer": "^https://token\\.actions\\.githubusercontent\\.com$",
        "subject": "^https://github\\.com/acme/hello-world/\\.github/workflows/release\\.yaml@refs/tags/.+$",
    }
    repo = the(render_with(cluster={"verify": identity}), "OCIRepository")
    assert repo["spec"]["verify"] == {"provider": "cosign", "matchOIDCIdentity": [identity]}
    validate(repo)


def test_a_verify_input_with_neither_key_nor_identity_fails_the_render_naming_it():
    with pytest.raises(
        RenderError, match=re.escape("cluster_config.verify needs publicKeySecret, or issuer and subject")
    ):
        render_with(cluster={"verify": {"issuer": "^https://token.actions.githubusercontent.com$"}})


def test_a_cluster_without_verify_pulls_unverified():
    assert "verify" not in the(render_with(), "OCIRepository")["spec"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_pinned_digests_pull_the_chart_and_run_the_artifact_by_digest(runtime):
    chart, native, spin = (f"sha256:{c * 64}" for c in "abc")
    generated = render_with(
        tenant_app={"chart": {"digest": chart}, "image": {"digests": {"native": native, "spin": spin}}}, runtime=runtime
    )
    assert the(generated, "OCIRepository")["spec"]["ref"] == {"digest": chart}
    release = the(generated, "HelmRelease")
    assert release["spec"]["values"]["image"]["digests"] == {"native": native, "spin": spin}
    installed = install(release)
    workload = the(installed, "Deployment" if runtime == "native" else "SpinApp")
    image = (
        workload["spec"]["template"]["spec"]["containers"][0]["image"]
        if runtime == "native"
        else workload["spec"]["image"]
    )
    suffix = "" if runtime == "native" else "-spin"
    want = native if runtime == "native" else spin
    assert image.endswith(f"/hello-world{suffix}:{release['spec']['values']['image']['tag']}@{want}")


def test_a_digest_that_is_not_sha256_is_rejected_by_the_chart_schema():
    with pytest.raises(RenderError, match="digests"):
        helm_template(
            "x", "x", {"image": {"registry": "r.example", "name": "hello-world", "digests": {"native": "latest"}}}
        )


def test_helm_release_installs_the_chart_with_the_inputs(stages):
    env, harness, generated, _, _ = stages
    name = f"{env['APP_NAME']}-{env['APP_CUSTOMER']}"
    release = the(generated, "HelmRelease", name)
    spec = release["spec"]
    repo = the(generated, "OCIRepository", name)
    assert spec["chartRef"] == {
        "kind": "OCIRepository",
        "name": repo["metadata"]["name"],
        "namespace": repo["metadata"]["namespace"],
    }
    assert spec["interval"] == "5m"
    assert "createNamespace" not in spec["install"] and spec["storageNamespace"] == "flux-system"
    assert spec["releaseName"] == name
    assert spec["install"]["remediation"]["retries"] == 3
    assert spec["upgrade"]["remediation"]["retries"] == 3
    values = spec["values"]
    assert values["namespace"] == name == spec["targetNamespace"]
    assert values["appName"] == env["APP_NAME"]
    assert values["runtime"] == env["APP_RUNTIME"]
    assert values["replicaCount"] == 3
    assert values["image"] == {"registry": env["APP_IMAGE_REGISTRY"], "tag": env["APP_IMAGE_VERSION"]}
    assert values["ingress"]["hostname"] == f"{env['APP_CUSTOMER']}.{env['APP_NAME']}.{env['CLUSTER_FQDN']}"
    assert values["podLabels"]["environment"] == env["CLUSTER_ENV"]
    assert values["networkPolicy"] == {"ingressNamespace": env["CLUSTER_INGRESS_NAMESPACE"]}
    # The pull secret the OCIRepository names exists where the OCIRepository is.
    secret = the(harness, "Secret", "image-pull-secret")
    assert secret["metadata"]["namespace"] == repo["metadata"]["namespace"]


def test_helm_release_reverts_drift_and_reads_the_pull_secret_and_the_tenants_values_configmap(stages):
    env, _, generated, _, _ = stages
    name = f"{env['APP_NAME']}-{env['APP_CUSTOMER']}"
    spec = the(generated, "HelmRelease", name)["spec"]
    assert spec["driftDetection"] == {"mode": "enabled"}
    # The pull secret's docker config becomes the chart's `auths` value (test_chart.py renders
    # the secret from it); the tenant's own values come after it, and the inline values win.
    assert spec["valuesFrom"] == [
        {"kind": "Secret", "name": "image-pull-secret", "valuesKey": ".dockerconfigjson", "optional": True},
        {"kind": "ConfigMap", "name": f"{name}-values", "valuesKey": "values.yaml", "optional": True},
    ]


def test_installed_objects_land_in_the_tenant_namespace_the_platform_labels(stages):
    env, _, generated, installed, _ = stages
    namespace = f"{env['APP_NAME']}-{env['APP_CUSTOMER']}"
    assert not find(installed, "Namespace")
    for obj in installed:
        assert obj["metadata"].get("namespace") == namespace, name_of(obj)
    # The ResourceSet renders the Namespace with the Pod Security level of the runtime's pods;
    # Flux's install.createNamespace would make it without.
    labels = the(generated, "Namespace", namespace)["metadata"]["labels"]
    expected = "restricted" if env["APP_RUNTIME"] == "native" else "baseline"
    assert labels["pod-security.kubernetes.io/enforce"] == expected


def test_the_platforms_namespace_and_executor_are_what_the_chart_renders_without_flux(stages):
    """The ResourceSet renders the tenant's Namespace and executor (the chart's would come too
    late for spin-operator's webhook); an install without Flux gets the same from the chart."""
    env, _, generated, _, _ = stages
    release = the(generated, "HelmRelease")
    values = {**release["spec"]["values"], "createNamespace": True}
    if env["APP_RUNTIME"] == "spin":
        values["spin"] = {**values["spin"], "createExecutor": True}
    own = helm_template(release["spec"]["releaseName"], release["spec"]["targetNamespace"], values)
    pod_security = lambda ns: {k: v for k, v in ns["metadata"]["labels"].items() if k.startswith("pod-security")}  # noqa: E731
    assert pod_security(the(generated, "Namespace")) == pod_security(the(own, "Namespace"))
    for executor in find(generated, "SpinAppExecutor"):
        chart_executor = the(own, "SpinAppExecutor", executor["metadata"]["name"])
        assert executor["spec"] == chart_executor["spec"]
        assert executor["metadata"]["namespace"] == chart_executor["metadata"]["namespace"]


def test_each_spin_tenant_names_an_executor_of_its_own():
    """spin-operator v0.6.1 keeps an executor while a SpinApp of any namespace names one of its
    name (upstream issue 480): tenants sharing a name would hold each other's executors."""
    executors = []
    for customer in ("acme", "globex"):
        _, _, generated, installed, _ = chain("spin", APP_CUSTOMER=customer)
        (executor,) = find(generated, "SpinAppExecutor")
        assert the(installed, "SpinApp")["spec"]["executor"] == executor["metadata"]["name"]
        assert not find(installed, "SpinAppExecutor")
        executors.append(executor["metadata"]["name"])
    assert executors == ["hello-world-acme", "hello-world-globex"]


def test_access_flow_ingress_service_pods(stages):
    env, _, _, installed, certificates = stages
    host = f"{env['APP_CUSTOMER']}.{env['APP_NAME']}.{env['CLUSTER_FQDN']}"
    ingress = the(installed, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == host
    path = rule["http"]["paths"][0]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    service = the(installed, "Service", path["backend"]["service"]["name"])
    assert path["backend"]["service"]["port"]["number"] == 80 == service["spec"]["ports"][0]["port"]
    certificate = the(certificates, "Certificate")
    assert certificate["spec"]["dnsNames"] == [host]
    assert certificate["spec"]["secretName"] == ingress["spec"]["tls"][0]["secretName"]


def test_the_issuer_and_runtime_class_the_objects_name_exist(stages):
    _, harness, generated, installed, certificates = stages
    for certificate in certificates:
        the(harness, "ClusterIssuer", certificate["spec"]["issuerRef"]["name"])
    for executor in find(generated, "SpinAppExecutor"):
        the(harness, "RuntimeClass", executor["spec"]["deploymentConfig"]["runtimeClassName"])
    for app in find(installed, "SpinApp"):
        executor = the(generated, "SpinAppExecutor", app["spec"]["executor"])
        assert executor["metadata"]["namespace"] == app["metadata"]["namespace"]


def test_switching_the_runtime_keeps_the_address():
    def address(runtime):
        _, _, _, installed, certificates = chain(runtime)
        ingress = the(installed, "Ingress")
        service = the(installed, "Service")
        return (
            ingress["spec"]["rules"],
            ingress["spec"]["tls"],
            service["metadata"]["name"],
            service["spec"]["ports"][0]["port"],
            certificates,
        )

    assert address("spin") == address("native")


def test_the_environment_overrides_the_harness_defaults():
    _, _, generated, installed, _ = chain("native", APP_CUSTOMER="globex", CLUSTER_FQDN="prod.example.org")
    release = the(generated, "HelmRelease", "hello-world-globex")
    assert release["spec"]["values"]["ingress"]["hostname"] == "globex.hello-world.prod.example.org"
    assert the(installed, "Deployment")["metadata"]["namespace"] == "hello-world-globex"


# Negative cases: each stage must refuse what would break the deployment.


def test_a_bad_value_is_rejected_by_the_chart_schema():
    with pytest.raises(RenderError, match="/runtime': value must be one of 'spin', 'native'"):
        chain("wasm")


def test_a_missing_required_input_fails_the_resourceset_render_naming_the_key():
    harness = harness_objects()
    tenant = the(harness, "ResourceSetInputProvider", "tenant-config")
    del tenant["spec"]["defaultValues"]["app"]["chart"]["version"]
    with pytest.raises(RenderError, match='map has no entry for key "version"'):
        render_resourceset(the(harness, "ResourceSet", "hello-world"), harness)


def test_a_tenant_without_a_customer_fails_the_render_naming_the_input():
    harness = harness_objects()
    tenant = the(harness, "ResourceSetInputProvider", "tenant-config")
    del tenant["spec"]["defaultValues"]["tenant"]
    with pytest.raises(RenderError, match=re.escape("tenant_config.tenant.customer is required")):
        render_resourceset(the(harness, "ResourceSet", "hello-world"), harness)


def test_the_platforms_seed_shaped_providers_render_with_the_charts_defaults():
    env = harness_env()
    harness = seed_shaped(harness_objects(env))
    tenant = the(harness, "ResourceSetInputProvider", "tenant-config")["spec"]["defaultValues"]
    assert set(tenant) == {"tenant", "app"} and set(tenant["app"]) == {"name", "chart", "image"}
    assert set(the(harness, "ResourceSetInputProvider", "cluster-config")["spec"]["defaultValues"]) == {"fqdn"}
    generated = render_resourceset(the(harness, "ResourceSet", "hello-world"), harness)
    release = the(generated, "HelmRelease", f"{env['APP_NAME']}-{env['APP_CUSTOMER']}")
    values = release["spec"]["values"]
    assert not {"runtime", "replicaCount", "podLabels"} & set(values)
    assert values["ingress"]["hostname"] == f"{env['APP_CUSTOMER']}.{env['APP_NAME']}.{env['CLUSTER_FQDN']}"
    installed = install(release)
    # The chart's defaults: the SpinKube runtime, three replicas.
    assert the(installed, "SpinApp")["spec"]["replicas"] == 3
    for obj in generated + installed:
        validate(obj)


def test_the_earlier_shape_with_customer_at_the_top_still_renders():
    env = harness_env()
    harness = harness_objects(env)
    tenant = the(harness, "ResourceSetInputProvider", "tenant-config")["spec"]["defaultValues"]
    tenant["customer"] = tenant.pop("tenant")["customer"]
    generated = render_resourceset(the(harness, "ResourceSet", "hello-world"), harness)
    assert {o["metadata"]["name"] for o in generated} == {f"{env['APP_NAME']}-{env['APP_CUSTOMER']}"}


def test_an_unset_harness_variable_fails_the_substitution():
    env = harness_env()
    del env["CLUSTER_FQDN"]
    with pytest.raises(RenderError, match=r"\$\{CLUSTER_FQDN\} is not set"):
        substitute(kustomize(), env)


@pytest.mark.parametrize(
    "kind, path",
    [
        ("SpinApp", ("spec", "replica")),
        ("HelmRelease", ("spec", "install", "createNamespaces")),
        ("OCIRepository", ("spec", "refs")),
        ("ResourceSet", ("spec", "inputStrategy", "nme")),
        ("Deployment", ("spec", "template", "spec", "containers", 0, "securityContex")),
        ("Ingress", ("spec", "ingressClass")),
    ],
)
def test_an_unknown_field_in_an_object_is_caught(kind, path):
    runtime = "native" if kind == "Deployment" else "spin"
    _, harness, generated, installed, _ = chain(runtime)
    obj = copy.deepcopy(the(harness + generated + installed, kind))
    validate(obj)
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "typo"
    with pytest.raises(Invalid):
        validate(obj)


def test_a_ci_run_can_render_the_chain_for_a_new_tenant(tmp_path):
    """Adding a tenant is one more set of inputs: the same chain renders it."""
    env = harness_env(APP_CUSTOMER="initech")
    harness = harness_objects(env)
    generated = render_resourceset(the(harness, "ResourceSet", "hello-world"), harness)
    assert {o["metadata"]["name"] for o in generated} == {"hello-world-initech"}
    rendered = yaml.safe_dump_all(generated)
    assert "initech.hello-world." in rendered
