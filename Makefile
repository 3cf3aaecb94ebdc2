# Colophon: the two commands a newcomer needs are `make demo` and `make test`.
# Both install what is missing first (scripts/install-deps: Debian packages, MinIO), once.

GO        ?= go
BIN       := bin/colophon
# Packages with goroutines of their own: run under the race detector too.
RACE_PKGS := ./internal/bus/... ./internal/devstack/... ./internal/client/... ./internal/metrics/... ./internal/tesseract/... ./workers/... ./cmd/...

export OMP_THREAD_LIMIT := 1

.PHONY: all deps build demo test bench check fuzz-smoke clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(GO) build -o $(BIN) ./cmd/colophon

# Runs the whole loop on this machine: starts the dev stack, uploads the bundled sample,
# prints the verified text and its provenance, stops the stack.
demo: build
	@scripts/demo $(BIN)

# Measures the pipeline against parallel tesseract and OCRmyPDF on the same 20 full pages
# (docs/benchmarks.md); installs OCRmyPDF and img2pdf first. Several minutes. Extra flags:
# make bench BENCH_ARGS="--pages 50 --cpuprofile bench.pprof"; BENCH_ARGS=--fidelity for
# reading quality against plain tesseract, BENCH_ARGS=--memory for an OCR worker's memory.
BENCH_ARGS ?=
bench:
	@scripts/install-deps --bench
	$(GO) build -o $(BIN) ./cmd/colophon
	$(BIN) bench $(BENCH_ARGS)

# Fuzz targets for every decoder of outside input, each run briefly on every test run.
FUZZ_TARGETS := ./pipeline:FuzzDecodeOCRJob ./pipeline:FuzzDecodeMetadataJob ./pipeline:FuzzValidateDocID ./pipeline:FuzzDecodeS3EventLog \
                ./internal/imageinfo:FuzzInspect ./internal/imageinfo:FuzzDecode ./internal/imageinfo:FuzzCountTIFF \
                ./internal/dates:FuzzFind
# A count, not a duration: with a duration, go test -fuzz can fail with "context deadline
# exceeded" when a fuzz worker answers late at the deadline on a loaded machine (seen in CI).
FUZZ_TIME    ?= 200000x
# Each new input that widens coverage is minimised for up to 60 s by default, with no
# executions counted meanwhile: a target with much to find (FuzzFind) spent most of 5 minutes
# minimising on a loaded machine. A count bounds that too.
FUZZ_MINIMIZE ?= 2000x

# The whole suite, integration tests included (they start real NATS, MinIO and Tesseract).
test: deps check
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)
	@$(MAKE) --no-print-directory fuzz-smoke

fuzz-smoke:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($(FUZZ_TIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZ_TIME) -fuzzminimizetime=$(FUZZ_MINIMIZE) $$pkg; \
	done

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	docker-compose config -q

clean:
	rm -rf bin
