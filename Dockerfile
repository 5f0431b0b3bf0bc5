# The image the cluster recipes run (docs/recipes/kubernetes-indexed-job.yaml):
# `faultline` on PATH and the bundled scenarios in /work, the working directory.
#
#   docker build -t faultline:latest .
#
# Multi-stage: the Rust toolchain image builds the release binary (`--cfg madsim` comes
# from .cargo/config.toml, which the build context keeps); the run stage is a slim
# Debian with the binary alone (the charts' font is compiled into it).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin faultline

FROM debian:bookworm-slim
COPY --from=build /src/target/release/faultline /usr/local/bin/faultline
COPY scenarios /work/scenarios
WORKDIR /work
CMD ["faultline", "--help"]
