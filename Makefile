.DEFAULT_GOAL := help
GO ?= go

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/lrs
	$(GO) build -buildvcs=true -o bin/lrs ./cmd/lrs

run: ## run the store (embedded by default; LRS_DATABASE_URL for PostgreSQL)
	$(GO) run ./cmd/lrs serve --migrate

test: ## run every test against a real PostgreSQL (see README)
	$(GO) test ./...

bench: ## run the benchmarks recorded in docs/benchmarks.md (lrs bench query is separate)
	$(GO) test ./web -run '^$$' -bench 'Ingest' -benchtime 1000x
	$(GO) test ./ingest -run '^$$' -bench Validation -cpu 1

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

.PHONY: help build run test bench lint
