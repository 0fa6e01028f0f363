"""The project's harness: everything the tests, the tasks and CI's jobs run around the Rust
crates, written once and imported from here (installed into .venv, editable, by
scripts/lib.sh's ensure_venv).

- `workspace`: where the checkout and its test data are, and the project's version.
- `processes`: starting the tools, waiting until something holds, the built tools' paths.
- `ports`, `nginx`, `site`, `raw_http`: free ports and waiting until a server listens, nginx as the
  harnesses run it (and as a reverse proxy), the site's page URLs, a raw GET and its bytes on
  the wire.
- `load`: load clients that load every page with its assets, counting 404s, 5xx and resets.
- `dictionary_delta`: an RFC 9842 delta update checked end to end with the reference zstd.
- `cluster_api`: any cluster by a kubeconfig; `tools`: the tool pins; `log`: the `==>` line.
- `kube`: Kubernetes objects validated offline against their schemas and CRDs.
- `chain`: the delivery chain, rendered offline (`chain.render`) and driven on a cluster
  (`chain.deliver`).
- `loopback_cluster`: the loopback cluster (etcd, the control plane, a node, a registry, Flux,
  Traefik); `python -m harness.loopback_cluster up` runs it for `mise run cluster`.
- `rolling_update`, `release_in_chromium`: version skew across a rolling update, and the release
  in Chromium (`mise run test:rolling-update`); `chart`: the chart rendered as the tests do.
- `bench`: the benchmark (`mise run bench`, `bench:pods`, `bench:instructions`, `bench:soak`):
  its servers, its measurements, and the report drawn from the saved figures.
- `workflow_job`: a GitHub Actions container job run on this machine (`mise run test:workflow`).
"""
