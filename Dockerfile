# syntax=docker/dockerfile:1.7
# The native fallback: runtime-shim with the docs compiled in, on distroless, as non-root.
# Built and pushed by `mise run push`; the chart's runtime: native runs it.

# 1. The docs, built strictly, with Mermaid served from the site (see scripts/lib.sh).
FROM python:3.11-slim-bookworm AS docs
WORKDIR /src
COPY site/requirements.txt site/requirements.txt
RUN pip install --no-cache-dir --requirement site/requirements.txt
ADD --checksum=sha256:6ad2f42c3fc26bbf9e45cbb6d11898972573ea52b33a5f4ff51952899f950ffd \
    https://registry.npmjs.org/mermaid/-/mermaid-11.17.2.tgz /tmp/mermaid.tgz
COPY site site
RUN tar -xzf /tmp/mermaid.tgz -C /tmp package/dist/mermaid.min.js \
 && mkdir -p site/docs/javascripts \
 && mv /tmp/package/dist/mermaid.min.js site/docs/javascripts/mermaid.min.js
WORKDIR /src/site
RUN NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true mkdocs build --strict --quiet

# 2. runtime-shim, with the built site embedded by build.rs.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=docs /src/site/build site/build
RUN cargo build --release --locked -p runtime-shim

# 3. Nothing but the binary and the C runtime it links.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/runtime-shim /usr/local/bin/runtime-shim
USER 65532:65532
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/runtime-shim"]
