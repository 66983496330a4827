.DEFAULT_GOAL := help
GO ?= go

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/lrs
	$(GO) build -buildvcs=true -o bin/lrs ./cmd/lrs

run: ## run the store (embedded by default; LRS_DATABASE_URL for PostgreSQL)
	$(GO) run ./cmd/lrs serve --migrate

test: ## run every test against a real PostgreSQL (see README)
	$(GO) test ./...

bench: ## run the benchmarks recorded in docs/benchmarks.md (lrs bench query is separate)
	$(GO) test ./web -run '^$$' -bench 'Ingest' -benchtime 1000x
	$(GO) test ./ingest -run '^$$' -bench Validation -cpu 1

screenshots: ## browser screenshots of each UI view into docs/ui/ (needs chromium)
	mkdir -p docs/ui
	LRS_SCREENSHOTS=$(CURDIR)/docs/ui LRS_REQUIRE_BROWSER=1 $(GO) test ./web -run '^TestUIBrowser$$' -count=1

vendor-uplot: ## refresh the vendored uPlot in web/ui/vendor from npm
	web/ui/vendor/refresh.sh

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

.PHONY: help build run test bench lint screenshots vendor-uplot
