# Clinicbox: the two commands are `make run` and `make test`.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/clinicbox
DATA     ?= ./data
ADDR     ?= :8443

.PHONY: run build test test-short generate check-generated lint bench bench-video fuzz attack clean

## run: build and start the appliance with a demo clinic in ./data
run: build
	$(BIN) serve --demo --data $(DATA) --addr $(ADDR)

## build: compile bin/clinicbox
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/clinicbox

## test: every test (browser tests need chromium; .ci/run installs it).
## Two passes at once. The browser pass (every TestBrowser… in a package
## whose tests import chromedp; web/internal/browsertest checks the naming)
## runs one package at a time at normal priority: Chromium's fake camera and
## the video calls must not be starved of CPU. Beside it, at nice 19, `go vet`
## and then every other test, packages side by side: they take only the CPU
## the browser pass leaves, which is most of it, since the browser pass mostly
## waits (media windows, page loads). Its output is shown when both are done.
## `go vet` runs once, on every package, so the passes run with -vet=off.
BROWSER_PKGS = $(shell grep -rl --include='*_test.go' '"github.com/chromedp/chromedp"' . | xargs -r -n1 dirname | sort -u)
test:
	@log=$$(mktemp); trap 'kill 0; exit 130' INT TERM; \
	( nice -n 19 sh -c '$(GO) vet ./... && $(GO) test -count=1 -timeout 20m -vet=off -skip "^TestBrowser" ./...' >$$log 2>&1; echo $$? >$$log.rc ) & \
	echo "== go vet, then every test but the browser tests (nice 19, in the background; output below when done)"; \
	echo "== browser tests: $(BROWSER_PKGS)"; \
	$(GO) test -count=1 -timeout 20m -vet=off -p 1 -run '^TestBrowser' $(BROWSER_PKGS); browser=$$?; \
	wait; echo "== go vet, then every test but the browser tests"; cat $$log; rest=$$(cat $$log.rc); rm -f $$log $$log.rc; \
	echo "== exit: vet and tests $$rest, browser tests $$browser"; \
	[ "$$rest" = 0 ] && [ "$$browser" = 0 ]

## generate: re-create the templ components' Go code (templ pinned in go.mod).
## Always from the repository root: the generated code names each .templ
## file by its path from where templ ran.
generate:
	cd "$(CURDIR)" && $(GO) tool templ generate

## check-generated: fail when the committed generated code is stale
check-generated: generate
	@git diff --exit-code -- '*_templ.go' || (echo 'generated code is stale: run make generate and commit'; exit 1)
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || (echo 'generated files not committed:'; git ls-files --others --exclude-standard -- '*_templ.go'; exit 1)

## lint: formatting and vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'run gofmt -w'; exit 1)
	$(GO) vet ./...

## bench: the benchmarks behind BENCHMARKS.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-video: the media server under N concurrent 1:1 calls (CALLS=10,25,60 BENCH_SECONDS=10), against a plain pion relay
CALLS ?= 10,25,60
BENCH_SECONDS ?= 10
bench-video:
	$(GO) build -o bin/loadgen ./video/loadgen
	nice ./bin/loadgen -calls $(CALLS) -seconds $(BENCH_SECONDS)

## fuzz: run each fuzzer briefly (FUZZTIME=1m for longer)
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## attack: the standing attack suite at length (web/attack: tenant matrix, bad input,
## crash loop with kill -9), ATTACK_ROUNDS=20 ATTACK_WRITERS=4 ATTACK_REPEAT=3;
## `make test` runs the same tests with 2 rounds, 3 writers, each input once.
## Then the resource tests at full size (CLINICBOX_ATTACK=1; make test runs
## them small): 16 concurrent maximum-size uploads and 16 downloads under an RSS bound, 300
## slow-body connections.
ATTACK_ROUNDS  ?= 20
ATTACK_WRITERS ?= 4
ATTACK_REPEAT  ?= 3
ATTACK_RESOURCE_TESTS ?= ^(TestUploadMemory|TestDownloadMemory|TestSlowBodies)$$
attack:
	$(GO) test -count=1 -timeout 60m -v -run '^Test' ./web/attack/ \
	  -args -attack.rounds=$(ATTACK_ROUNDS) -attack.writers=$(ATTACK_WRITERS) -attack.repeat=$(ATTACK_REPEAT)
	CLINICBOX_ATTACK=1 $(GO) test -count=1 -timeout 30m -v -run '$(ATTACK_RESOURCE_TESTS)' ./cmd/clinicbox/

clean:
	rm -rf bin
