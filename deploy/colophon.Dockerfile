# Colophon: one image for every command (workers, health, upload...).
# Build context is the repository root:
#   docker build -f deploy/colophon.Dockerfile -t colophon:dev .
# Works with the classic builder (docker-compose 1.29) as well as BuildKit: no RUN --mount.

# The build stage and the runtime stage must be the same Debian release, so that the
# libtesseract/libleptonica the binary links against are the ones installed at run time.
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${GO_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtesseract-dev libleptonica-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is reused until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -buildvcs=false -o /out/colophon ./cmd/colophon

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-eng poppler-utils ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 colophon \
 && useradd --system --uid 10001 --gid colophon --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin colophon
COPY --from=build /out/colophon /usr/local/bin/colophon
# Each recognition must stay on one core: libgomp reads this when the process loads.
# (The binary re-execs itself with it when unset; setting it here saves the re-exec.)
ENV OMP_THREAD_LIMIT=1
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/colophon"]
CMD ["--help"]
