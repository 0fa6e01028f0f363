"""A rolling update on the node, through the real path: with the cluster serving release N, the
release changes to N+1, a site whose stylesheet and script bundles differ, built with
PREVIOUS_SITE = N (project-tests/rolling_update.py makes both; `mise run e2e` builds their
release binaries). The Deployment rolls: the kubelet sends SIGTERM, and the endpoints
controller and kube-proxy catch up at their own pace, while clients load every page with all
its assets through the ingress controller (Traefik in a pod, over HTTPS -> the pods that the
Service's EndpointSlices list as serving).

With the chart's drain settings, nothing the pods can answer is lost: no 5xx, no reset or
refused connection, and no 404 for an asset of release N, which N+1 carries (version-skew
protection). The other direction no rolling update behind a Service can promise: while both
releases are in the Service's endpoints, a page of N+1 may have its assets asked of a pod of N,
which never had them. Traefik balances each request over the serving endpoints, and nothing
retries a 404 on another pod. The test counts those 404s and
asserts they stop once the last pod of N is gone; the chart keeps that window short (every new
pod first, readiness probed each second). The same rollout with the drain off shows what the
test catches."""

import datetime
import os
import pathlib
import time

import pytest

from harness.chain.deliver import deploy, pinned, running_and_ready, wait
from harness.load import loading, totals
from harness.loopback_cluster.ingress_controller import https, serving
from harness.loopback_cluster.registry import push_image, push_spin_app
from harness.rolling_update import FINGERPRINTS
from harness.site import pages_of

CLIENTS = 4
REPLICAS = 3


@pytest.fixture(scope="module")
def releases(cluster):
    """Release N and N+1 in the cluster's registry, by tag, pushed as mise-tasks/push pushes a
    release: the native images (scripts/push-image) and the Spin artifacts (scripts/push-spin-app),
    signed with the release key (the node pulls nothing else from these repositories)."""
    built = {
        variable: os.environ.get(variable)
        for variable in (
            "ROLLOUT_N_SHIM",
            "ROLLOUT_N1_SHIM",
            "ROLLOUT_N_COMPONENT",
            "ROLLOUT_N1_COMPONENT",
            "ROLLOUT_SITE",
        )
    }
    if not all(built.values()):
        pytest.fail(f"{', '.join(built)} are not all set: run `bin/mise run e2e`, which builds them")
    tags = {
        "rollout-n": ("ROLLOUT_N_SHIM", "ROLLOUT_N_COMPONENT"),
        "rollout-n1": ("ROLLOUT_N1_SHIM", "ROLLOUT_N1_COMPONENT"),
    }
    for tag, (shim, component) in tags.items():
        native, spin = (
            f"{cluster.registry.address}/{repository}:{tag}" for repository in ("hello-world", "hello-world-spin")
        )
        push_image(pathlib.Path(built[shim]), "65532:65532", 8000, [native])
        push_spin_app(pathlib.Path(built[component]), [spin])
        for ref in (native, spin):
            cluster.signing_key.sign(pinned(ref))
    return list(tags)


def roll(
    cluster, runtime: str, customer: str, releases: list[str], rollouts: int = 1, chart_values: dict | None = None
) -> dict:
    """Serves release N, then rolls between N and N+1 under load through the ingress: once, or
    up to `rollouts` times until the clients lose something. Returns the clients' counts."""
    name, _repo, release = deploy(
        cluster, runtime, customer, replicas=REPLICAS, values=chart_values, APP_IMAGE_VERSION=releases[0]
    )
    app = release["spec"]["values"].get("appName", "hello-world")
    running_and_ready(cluster, name, REPLICAS, timeout=180)
    host = serving(cluster, name, app)
    pages = pages_of(pathlib.Path(os.environ["ROLLOUT_SITE"]))
    took, finished, ready_at = [], [], []
    with loading(lambda: https(cluster, host), pages, CLIENTS, host) as clients:
        time.sleep(3)
        for rollout in range(1, rollouts + 1):
            old, new = releases[(rollout - 1) % 2], releases[rollout % 2]
            began = time.monotonic()
            # The tenant's image version changes in its provider: flux-operator renders the
            # HelmRelease anew, and helm-controller upgrades the release.
            deploy(cluster, runtime, customer, replicas=REPLICAS, values=chart_values, APP_IMAGE_VERSION=new)

            def rolled(new=new):
                pods = cluster.get("pods", namespace=name)["items"]
                return len(pods) == REPLICAS and all(
                    p["spec"]["containers"][0]["image"].endswith(f":{new}")
                    and p["status"].get("phase") == "Running"
                    and all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))
                    for p in pods
                )

            # Until every pod of the old release has exited, not only until the new one is
            # Ready: the drain happens then.
            wait(f"{app}'s pods rolled to {new}, every pod of {old} gone", rolled, timeout=240)
            finished.append(time.monotonic())
            took.append(round(finished[-1] - began, 1))
            ready_at.append(readiness_spread(cluster.get("pods", namespace=name)["items"]))
            time.sleep(3)
            if any(c.failures for c in clients):
                break
    counts = totals(clients)
    counts["seconds"] = took
    counts["rolled at"] = finished
    counts["readiness spread"] = ready_at
    counts["failures"] = [f for c in clients for f in c.failures]
    counts["5xx seen"] = sorted({f for f in counts["failures"] if not f.endswith(": 404")})[:10]
    counts["missing"] = sorted(m for c in clients for m in c.missing)
    return counts


def readiness_spread(pods: list[dict]) -> int:
    """Seconds between the first and the last of `pods` to become Ready (the API's resolution
    is a second): how long a rollout has both releases in the Service's endpoints."""
    times = [
        datetime.datetime.fromisoformat(c["lastTransitionTime"].replace("Z", "+00:00"))
        for p in pods
        for c in p["status"]["conditions"]
        if c["type"] == "Ready"
    ]
    return int((max(times) - min(times)).total_seconds())


def report(what: str, counts: dict) -> str:
    return (
        f"{what}: {counts['pages']} pages and {counts['assets']} assets loaded through the ingress during "
        f"{len(counts['seconds'])} rollout(s) of {' + '.join(map(str, counts['seconds']))} s; "
        f"{counts['asset 404s']} asset 404s, {counts['5xx']} 5xx, {counts['resets']} reset or refused connections; "
        f"new pods Ready within {' + '.join(map(str, counts['readiness spread']))} s of each other"
        + (f"; the first 5xx and resets: {counts['5xx seen']}" if counts["5xx seen"] else "")
    )


def test_a_rollout_with_the_charts_drain_settings_loses_nothing_the_pods_can_answer(cluster, releases):
    counts = roll(cluster, "native", "rollout", releases)
    missing = counts["missing"]
    window = f"{missing[-1][0] - missing[0][0]:.1f} s" if missing else "none"
    print(
        report("rollout N -> N+1 with the chart's defaults (drain delay 5 s)", counts)
        + f"; of the 404s, assets of N+1 asked of a pod of N while both served: {len(missing)} over {window}"
    )
    assert counts["pages"] > 0 and counts["assets"] > 0
    assert (counts["5xx"], counts["resets"]) == (0, 0), counts["failures"][:10]
    # Skew protection: N+1 serves every asset of N.
    assert not [asset for _, asset in missing if FINGERPRINTS["old"] in asset], counts["failures"][:10]
    # Only a pod of N can lack an asset of N+1, and no such pod answers after the rollout.
    assert all(FINGERPRINTS["new"] in asset for _, asset in missing), counts["failures"][:10]
    assert all(at <= counts["rolled at"][0] for at, _ in missing), counts["failures"][:10]


def test_the_same_rollout_without_drain_loses_requests(cluster, releases):
    """Shows that the test above can fail. With no drain, runtime-shim stops listening at
    SIGTERM while kube-proxy still sends it new connections for up to a second. Whether a request
    falls into that second is a race, so the rollout goes back and forth (N+1, N, N+1, ...) up
    to 6 times, until the clients lose something."""
    counts = roll(
        cluster,
        "native",
        "rollout-nodrain",
        releases,
        rollouts=6,
        chart_values={"shutdown": {"drainDelaySeconds": 0, "timeoutSeconds": 25}},
    )
    print(report("the same rollout without drain (drain delay 0)", counts))
    for failure in counts["failures"][:3]:
        print(f"  {failure}")
    assert counts["pages"] > 0
    assert counts["asset 404s"] + counts["5xx"] + counts["resets"] > 0


def test_a_spin_rollout_keeps_every_asset_of_release_n(cluster, releases):
    """The same rollout on Spin pods. containerd-shim-spin ends Spin at SIGTERM at once (its
    engine aborts the trigger: containerd-shim-spin/src/engine.rs), and neither the SpinApp
    nor its executor can give the pods a drain (no preStop, no grace period): the losses of
    that moment are counted and printed. What the site promises holds all the same: no 404
    for an asset of N, and N+1's assets missing only from pods of N, only while they serve."""
    counts = roll(cluster, "spin", "rollout-spin", releases)
    missing = counts["missing"]
    print(report("spin rollout N -> N+1 with the chart's defaults", counts))
    for failure in counts["failures"][:3]:
        print(f"  {failure}")
    assert counts["pages"] > 0 and counts["assets"] > 0
    assert not [asset for _, asset in missing if FINGERPRINTS["old"] in asset], counts["failures"][:10]
    assert all(FINGERPRINTS["new"] in asset for _, asset in missing), counts["failures"][:10]
    assert all(at <= counts["rolled at"][0] for at, _ in missing), counts["failures"][:10]
