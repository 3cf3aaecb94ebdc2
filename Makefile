# Colophon: the two commands a newcomer needs are `make demo` and `make test`.
# Both install what is missing first (scripts/install-deps: Debian packages, MinIO), once.

GO        ?= go
BIN       := bin/colophon
# Packages with goroutines of their own: run under the race detector too.
RACE_PKGS := ./internal/bus/... ./internal/devstack/... ./internal/client/... ./workers/... ./cmd/...

export OMP_THREAD_LIMIT := 1

.PHONY: all deps build demo test check fuzz-smoke clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(GO) build -o $(BIN) ./cmd/colophon

# Runs the whole loop on this machine: starts the dev stack, uploads the bundled sample,
# prints the verified text and its provenance, stops the stack.
demo: build
	@scripts/demo $(BIN)

# The whole suite, integration tests included (they start real NATS, MinIO and Tesseract).
test: deps check
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	docker-compose config -q

clean:
	rm -rf bin
