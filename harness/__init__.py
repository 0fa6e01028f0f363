"""The project's harness: everything the tests, the tasks and CI's jobs run around the Rust
crates, written once and imported from here (installed into .venv, editable, by
scripts/lib.sh's ensure_venv).

- `workspace`: where the checkout and its test data are, and the project's version.
- `processes`: starting the tools, waiting until something holds, the built tools' paths.
- `ports`, `nginx`, `site`, `wire`: free ports and waiting until a server listens, nginx as the
  harnesses run it, the site's page URLs, a response's bytes on the wire.
- `kube`: Kubernetes objects validated offline against their schemas and CRDs.
- `chain`: the delivery chain, rendered offline (`chain.render`) and driven on a cluster
  (`chain.deliver`).
- `loopback_cluster`: the loopback cluster (etcd, the control plane, a node, a registry, Flux,
  Traefik); `python -m harness.loopback_cluster up` runs it for `mise run cluster`.
- `rolling_update`, `release_in_chromium`: version skew across a rolling update, and the release
  in Chromium (`mise run test:rolling-update`).
- `bench`: the benchmark (`mise run bench`, `bench:pods`, `bench:instructions`, `bench:soak`).
- `workflow_job`: a GitHub Actions container job run on this machine (`mise run test:workflow`).
"""
