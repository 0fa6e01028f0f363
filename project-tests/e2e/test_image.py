"""The native image as the project's push path publishes it (scripts/push-image, crane, no
Docker engine), read back from the cluster's registry: the contract the old Dockerfile kept."""

import io
import json
import tarfile

from harness.loopback_cluster.registry import crane


def test_the_native_image_holds_the_release_binary_and_only_the_libraries_it_links(cluster):
    ref = f"{cluster.release['APP_IMAGE_REGISTRY']}/hello-world:{cluster.release['APP_IMAGE_VERSION']}"
    config = json.loads(crane("config", ref))
    assert config["os"] == "linux" and config["architecture"] == "amd64"
    assert config["config"]["User"] == "65532:65532"
    assert config["config"]["Entrypoint"] == ["/usr/local/bin/runtime-shim"]
    assert list(config["config"]["ExposedPorts"]) == ["8000/tcp"]
    with tarfile.open(fileobj=io.BytesIO(crane("export", ref, "-"))) as layer:
        files = sorted(m.name.removeprefix("./") for m in layer.getmembers() if not m.isdir())
    # glibc's loader and the libraries ldd names for the release binary (Debian's libc6 and
    # libgcc-s1) with their packages' dpkg records (for the SBOM), and nothing else: no shell,
    # no package manager.
    records = [f for f in files if f.startswith("var/lib/dpkg/status.d/")]
    assert records == [f"var/lib/dpkg/status.d/{p}{e}" for p in ("libc6", "libgcc-s1") for e in ("", ".md5sums")]
    binaries = [f for f in files if f not in records]
    assert binaries[-1] == "usr/local/bin/runtime-shim"
    assert "lib64/ld-linux-x86-64.so.2" in binaries
    assert all(f.startswith(("lib/", "lib64/", "usr/lib/")) for f in binaries[:-1]), files
    assert not any(f.endswith(("/sh", "/bash", "/apt", "/dpkg")) for f in files)
    print(f"native image {ref}: {len(files)} files ({', '.join(files)})")
