"""The loopback cluster, once for every end-to-end test: started, given the release through the
project's own push path (the native image and the chart into its registry), and stopped at the
end, when the host must be as it was before (no mount, cgroup, bridge, netfilter table or
changed sysctl left over). Its folder (logs, the pods' logs, the store) stays for a look when
a test failed, and goes otherwise: a run leaves hundreds of MB there."""

import os
import pathlib
import shutil
import tempfile

import pytest

from harness.loopback_cluster.cluster import Cluster
from harness.processes import tools_missing


@pytest.fixture(scope="session")
def cluster(request):
    missing = tools_missing()
    if missing:
        if os.environ.get("HELLO_WORLD_REQUIRE_E2E") == "1":
            pytest.fail(f"HELLO_WORLD_REQUIRE_E2E=1 but these tools are not set: {missing}")
        pytest.skip(f"the cluster's tools are not built ({', '.join(missing)}): run `bin/mise run e2e`")
    cluster = Cluster(pathlib.Path(tempfile.mkdtemp(prefix="hello-world-e2e-")))
    try:
        cluster.start()
        print("cluster start-up (s):", {k: round(v, 1) for k, v in cluster.timings.items()})
        cluster.publish()
        yield cluster
    finally:
        cluster.stop()
    assert cluster.leftovers == [], f"the node left these on the host: {cluster.leftovers}"
    if request.session.testsfailed:
        print(f"the cluster's logs are in {cluster.dir}")
    else:
        shutil.rmtree(cluster.dir)
