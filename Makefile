# `make test` is what CI runs (.ci/run): it installs what the tests need when
# missing, then runs vet, every Go test and the editor tests.
GO ?= go

.PHONY: test go-test editor-test deps build check-demo

test: deps
	$(GO) vet ./...
	$(GO) test ./...
	bash editors/test.sh

go-test: deps
	$(GO) vet ./...
	$(GO) test ./...

editor-test:
	bash editors/test.sh

deps:
	bash scripts/install-deps.sh

build:
	$(GO) build -o bpf-lsp ./cmd/bpf-lsp

check-demo:
	$(GO) run ./cmd/bpf-lsp check testdata/demo
