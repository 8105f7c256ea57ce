# `make test` is what CI runs (.ci/run): it installs what the tests need when
# missing, then runs vet, staticcheck, every Go test, the editor tests and the real-world
# corpus (which fails on a regression against its baseline).
GO ?= go

.PHONY: test go-test editor-test deps build install vsix check-demo realworld realworld-update-baseline stress bench bench-corpus bench-check

STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

test: deps
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test ./...
	$(GO) test modernc.org/cc/v4 # third_party/cc is a module of its own
	bash editors/test.sh
	bash scripts/realworld.sh

go-test: deps
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test ./...
	$(GO) test modernc.org/cc/v4 # third_party/cc is a module of its own

editor-test:
	bash editors/test.sh

deps:
	bash scripts/install-deps.sh

build:
	$(GO) build -buildvcs=auto -o bpf-lsp ./cmd/bpf-lsp

# install puts bpf-lsp in $(go env GOBIN), else $(go env GOPATH)/bin, with
# the commit it was built from in `bpf-lsp --version`.
install:
	$(GO) install -buildvcs=auto ./cmd/bpf-lsp
	@bin=$$($(GO) env GOBIN); [ -n "$$bin" ] || bin=$$($(GO) env GOPATH)/bin; \
		echo "installed $$bin/bpf-lsp ($$($$bin/bpf-lsp --version))"; \
		case ":$$PATH:" in *":$$bin:"*) ;; *) echo "note: $$bin is not on PATH";; esac

# vsix packages the VS Code extension for linux-x64 and linux-arm64, each
# with the server inside (editors/vscode/bpf-lsp-PLATFORM.vsix).
vsix:
	cd editors/vscode && npm ci --no-audit --no-fund && npm run package:platforms

check-demo:
	$(GO) run ./cmd/bpf-lsp check testdata/demo

# The kernel's own BPF programs (linux-source-6.12 selftests and sched_ext):
# build, load, check, score, compare with testdata/realworld-baseline.json.
# REALWORLD_FLAGS='--files rbtree*' runs a subset.
realworld: deps
	bash scripts/realworld.sh $(REALWORLD_FLAGS)

realworld-update-baseline: deps
	bash scripts/realworld.sh --update-baseline

# `make stress` drives a built server with an edit storm over 50 documents on
# vmlinux.h, 500 documents opened and closed, adversarial inputs and a
# JSON-RPC fuzz, and prints what it measured (minutes; not part of `make
# test`). STRESS_FLAGS passes options, e.g. STRESS_FLAGS="-run fuzz -keep".
stress: build
	nice -n 10 $(GO) run ./internal/stress -bin ./bpf-lsp $(STRESS_FLAGS)

# `make bench` measures bpf-lsp beside clangd-19 and `clangd --sync` in the
# same run (cold open, median warm edit -> diagnostics, CPU time per edit,
# peak RSS) on a small vmlinux.h program, generated 2,000/5,000-line files
# and three kernel selftests, and prints a Markdown table of the medians of
# 3 interleaved runs with bpf-lsp's ratios; JSON in out/bench.json.
# BENCH_FLAGS passes options, e.g. BENCH_FLAGS="-runs 1 -edits 30 -files rbtree.c".
bench: build
	mkdir -p out
	nice -n 10 $(GO) run ./internal/bench -bin ./bpf-lsp -json out/bench.json $(BENCH_FLAGS)

# `make bench-corpus` runs one server over every real-world corpus file
# (make realworld fills the cache): open, two edits inside the first
# function, close; prints cold and edit -> diagnostics latency (median, p99,
# max, files over 200 ms), the slowest files and peak RSS; JSON in
# out/bench-corpus.json. BENCH_FLAGS="-files 'rbtree*,tools/sched_ext/*'" runs a subset.
bench-corpus: build
	mkdir -p out
	nice -n 10 $(GO) run ./internal/bench -bin ./bpf-lsp -corpus-edits -json out/bench-corpus.json $(BENCH_FLAGS)

# `make bench-check` runs `bpf-lsp check` over the 798 kernel selftests in
# one process beside clang-19 -fsyntax-only on the same files and flags (one
# process per file, one per core), interleaved, 3 runs: wall, CPU, max RSS,
# first finding and the ratios (make realworld fills the corpus cache).
bench-check: build
	python3 scripts/bench-check.py ./bpf-lsp $(BENCH_FLAGS)
