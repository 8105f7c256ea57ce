# `make test` is what CI runs (.ci/run): it installs what the tests need when
# missing, then runs vet, every Go test and the editor tests.
GO ?= go

.PHONY: test go-test editor-test deps build install vsix check-demo

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
