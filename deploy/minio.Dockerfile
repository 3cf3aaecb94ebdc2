# MinIO server and mc client, built from source at pinned versions (MinIO no longer
# publishes images or binaries that can be relied on), plus Colophon's MinIO setup
# (deploy/minio/init.sh and the least-privilege policies).
# Build context is the repository root:
#   docker build -f deploy/minio.Dockerfile -t colophon-minio:dev .
# The image runs the server by default; the `minio-init` compose service runs
# /usr/local/bin/colophon-minio-init instead.

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${GO_IMAGE} AS build
# The server version Colophon is tested against (scripts/install-deps pins the same one).
ARG MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# The mc version that this MinIO's go.mod requires, so client and server match.
ARG MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
ENV CGO_ENABLED=0 GOBIN=/out
RUN go install -trimpath github.com/minio/minio@${MINIO_VERSION} \
 && go install -trimpath github.com/minio/mc@${MC_VERSION}

FROM ${RUNTIME_IMAGE}
# curl: the compose healthcheck. coreutils (timeout, mktemp) is already in the base.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10002 minio \
 && useradd --system --uid 10002 --gid minio --home-dir /home/minio --create-home \
      --shell /usr/sbin/nologin minio \
 && mkdir -p /data /events \
 && chown minio:minio /data /events
# Named volumes mounted on /data and /events (undelivered event notifications) start out
# with this ownership.
COPY --from=build /out/minio /out/mc /usr/local/bin/
COPY deploy/minio/init.sh /usr/local/bin/colophon-minio-init
COPY deploy/minio/policies/ /etc/colophon/minio-policies/
RUN chmod 0755 /usr/local/bin/colophon-minio-init \
 && chmod 0644 /etc/colophon/minio-policies/*.json
USER 10002:10002
EXPOSE 9000 9001
ENTRYPOINT ["/usr/local/bin/minio", "server", "/data", "--address", ":9000", "--console-address", ":9001"]
