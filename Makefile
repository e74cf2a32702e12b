# siokit: `make test` is what CI runs (.ci/run); `make example` is the demo.
GO ?= go

.PHONY: test peers vet example fuzz bench matrix client-matrix cases-doc

# test installs the real Node peers the tests run against, then vets and
# runs every test with the race detector, then the memory-ceiling and
# allocation-budget tests once more without it (the race detector multiplies
# memory and allocations, so they assert their ceilings only in a plain
# build; the allocation tests are built only without it).
test: peers
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -timeout 5m -run '^(TestEndless|TestEchoAllocs|TestHotPathAllocs|TestZeroAllocs)' ./protocol/client/ ./protocol/socketio/ ./protocol/engineio/ ./internal/load/ ./internal/conform/

peers:
	peers/install.sh

example: peers
	$(GO) run ./examples/echo

# fuzz runs every fuzz target briefly (FUZZTIME each).
FUZZTIME ?= 10s
fuzz:
	@for pkg in ./protocol/engineio ./protocol/socketio ./internal/yamldoc; do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: peers
	bench/client.sh

# matrix regenerates docs/conformance-matrix.md: sioconform's built-in suite
# against every contract peer and the built-in server, with the reason for
# every verdict that is not a pass.
matrix: peers
	bench/conform-matrix.sh

# client-matrix regenerates docs/client-conformance-matrix.md: the client
# suite against every client peer, each verdict checked against
# internal/conform/testdata/client-expected-verdicts.yaml, with the reason
# for every verdict that is not a pass; TestClientMatrixDoc fails when it
# is stale.
client-matrix: peers
	bench/client-matrix.sh

# sioload builds the static binary that the image holds, as the Dockerfile
# does (internal/k8s's test checks that both build the same package);
# image builds the image that deploy/kubernetes/ and "sioload k8s" run.
.PHONY: sioload-static image
sioload-static:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/sioload ./cmd/sioload

image:
	docker build -t siokit/sioload .

# cases-doc regenerates the list of every built-in case (strength, rule,
# source) in docs/conformance-cases.md; TestCasesDoc fails when it is stale.
cases-doc:
	$(GO) test -count=1 -run '^TestCasesDoc$$' ./internal/conform/ -args -conform.casesdoc
