# syntax=docker/dockerfile:1
#
# onshape-mock in a container: `serve` on 0.0.0.0:8080.
#
#   docker build -t onshape-mock .
#   docker run --rm -p 127.0.0.1:8080:8080 onshape-mock
#   docker run --rm -p 127.0.0.1:8080:8080 onshape-mock serve --bind 0.0.0.0:8080 --allow-remote-control --auto-consent alice@example.com
#
# Two things the mock refuses, on purpose, that matter in containers:
# - Host names. It answers only a Host that is an IP address, `localhost` or `*.localhost`
#   (DNS-rebinding protection). Reached as http://localhost:8080 or http://127.0.0.1:8080
#   through `-p 8080:8080` it answers; reached by a Docker Compose service name
#   (http://onshape-mock:8080) it answers only when told to:
#     command: ["serve", "--bind", "0.0.0.0:8080", "--allow-remote-control", "--allow-host", "onshape-mock"]
# - The control API (/__mock/…: clock, consent, faults, reset) answers loopback peers only,
#   unless `--allow-remote-control`: through `-p` the peer is Docker's gateway, so the image's
#   default command passes it. Publish the port on loopback (`-p 127.0.0.1:8080:8080`) so that
#   only this machine can script the mock.
#
# The builder cross-compiles on the build platform (no emulation for the compile) for
# linux/amd64 and linux/arm64: `docker buildx build --platform linux/amd64,linux/arm64 .`

ARG RUST_VERSION=1

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-bookworm AS builder
# Set by BuildKit: the platform the image is for.
ARG TARGETARCH
WORKDIR /src

# The Rust target of the image's platform, and a cross linker when it is not this machine's.
RUN set -eux; \
    host="$(dpkg --print-architecture)"; \
    arch="${TARGETARCH:-$host}"; \
    case "$arch" in \
      amd64) target=x86_64-unknown-linux-gnu; gnu=x86_64-linux-gnu; gcc="gcc-x86-64-linux-gnu" ;; \
      arm64) target=aarch64-unknown-linux-gnu; gnu=aarch64-linux-gnu; gcc="gcc-aarch64-linux-gnu" ;; \
      *) echo "unsupported platform: $arch" >&2; exit 1 ;; \
    esac; \
    echo "export RUST_TARGET=$target" > /cross-env; \
    if [ "$arch" != "$host" ]; then \
      apt-get update; \
      apt-get install -y --no-install-recommends "$gcc" "libc6-dev-$arch-cross"; \
      rm -rf /var/lib/apt/lists/*; \
      upper="$(echo "$target" | tr 'a-z-' 'A-Z_')"; \
      lower="$(echo "$target" | tr '-' '_')"; \
      { \
        echo "export CARGO_TARGET_${upper}_LINKER=$gnu-gcc"; \
        echo "export CC_${lower}=$gnu-gcc"; \
        echo "export AR_${lower}=$gnu-ar"; \
      } >> /cross-env; \
    fi; \
    rustup target add "$target"

COPY . .

RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    set -eux; \
    . /cross-env; \
    cargo build --release --locked --bin onshape-mock --target "$RUST_TARGET"; \
    cp "target/$RUST_TARGET/release/onshape-mock" /usr/local/bin/onshape-mock

FROM debian:bookworm-slim

RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system --gid 10001 onshape; \
    useradd --system --uid 10001 --gid onshape --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin onshape

COPY --from=builder /usr/local/bin/onshape-mock /usr/local/bin/onshape-mock

# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001

EXPOSE 8080

# SIGTERM (docker stop) stops it cleanly: idle connections close, requests in flight get
# --shutdown-grace (5 s).
ENTRYPOINT ["onshape-mock"]
CMD ["serve", "--bind", "0.0.0.0:8080", "--allow-remote-control"]
