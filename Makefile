# mini-docker — see README.md. Everything here needs only Go and bash;
# `make setup` installs the Debian packages the tests and lessons use.
TOOLS   := chroot unshare cgroupctl overlay vethctl pull capctl seccompctl mini-docker mini-docker-inside mini-docker-build mini-docker-serve
HELPERS := $(notdir $(wildcard lessons/cmd/*))
GO      ?= go
TESTFLAGS ?=

.PHONY: all build $(TOOLS) helpers test test-unit test-integration lessons shell fuzz setup bench demo clean vet fmt

all: build

build: $(TOOLS) helpers

$(TOOLS):
	@bash scripts/build $@ bin

helpers:
	@for h in $(HELPERS); do bash scripts/build $$h bin || exit 1; done

# Everything: static checks, unit and integration tests, then the lessons.
# Integration tests need root; under CI=true a skip for missing root fails.
# Docker's engine is started when installed and not running (scripts/dockerd,
# idempotent); the comparison with it runs verbosely, so the log shows it ran.
test: vet build
	@bash scripts/dockerd
	$(GO) test -count=1 -timeout 40m $(TESTFLAGS) -skip '^TestCompare' ./...
	$(GO) test -count=1 -timeout 30m -v -run '^TestCompare' ./mini-docker/compare/
	$(MAKE) lessons
	$(MAKE) fuzz

# Unit tests only: no root, no kernel objects, runs anywhere.
test-unit:
	$(GO) test -short -count=1 $(TESTFLAGS) ./...

test-integration: build
	$(GO) test -count=1 -timeout 40m $(TESTFLAGS) ./...

# Runs every lesson's console blocks and compares their output
# (LESSON=03 runs only lessons whose file name starts with 03; LESSON=03,09 both).
lessons: build
	MINI_DOCKER_LESSONS=1 LESSON=$(LESSON) $(GO) test -count=1 -timeout 30m -run 'TestLessons' -v ./lessons/

# A learner's shell in a lesson's sandbox: the scratch folder, private
# network/mount/UTS namespaces and variables ($REGISTRY, $DEBIAN_TAR,
# $BUSYBOX, bin/ first on PATH) that `make lessons` runs the lesson in.
# sudo make shell LESSON=05. $REGISTRY serves the workshop mirror (MIRROR,
# the one `make demo` uses; built offline the first time).
MIRROR ?= /var/lib/mini-docker-mirror
shell: build
	@test -n "$(LESSON)" || { echo "make shell: say which lesson: sudo make shell LESSON=05" >&2; exit 2; }
	@$(GO) run ./internal/testenv/cmd/workshop-mirror prepare --storage $(MIRROR)
	@$(GO) run ./internal/lessonrun/cmd/lesson-shell --registry-storage $(MIRROR) $(LESSON)

# Runs every fuzz target (func FuzzXxx) one at a time, about 5 minutes in
# all (FUZZ_BUDGET=300 seconds; FUZZTIME=1m for a fixed time per target).
# A crash fails it and leaves the input in testdata/fuzz/ to commit.
fuzz:
	bash scripts/fuzz

# go vet, staticcheck, deadcode (functions that no command and no test
# reaches), a package comment in every package, and gofmt. staticcheck and
# deadcode are pinned in go.mod's tool directive, so `go tool` builds them
# from the module proxy on a fresh machine. Any finding fails.
vet:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@out=$$($(GO) tool deadcode -test ./...) || exit 1; \
	  if [ -n "$$out" ]; then echo "deadcode: unreachable functions:"; echo "$$out"; exit 1; fi
	@out=$$($(GO) list -f '{{if and .GoFiles (not .Doc)}}{{.ImportPath}}{{end}}' ./...) || exit 1; \
	  if [ -n "$$out" ]; then echo "no package comment (say which lesson it belongs to):"; echo "$$out"; exit 1; fi
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	# No function over 80 lines, no package over 2,000 (tests and generated files aside).
	$(GO) run ./internal/codesize

fmt:
	gofmt -w $$(git ls-files '*.go')

# Installs the OS packages the tests and lessons need (only the missing ones).
setup:
	bash scripts/setup

# The host matrix (scripts/vm list): on each VM host, the kernel-touching
# packages' tests, the lessons, the demo and (where Docker runs) the compare
# suite. HOST=debian13-v2 make test-vm runs one host.
.PHONY: vm test-vm test-vm-quick test-vm-ci
test-vm: build
	bash scripts/vm-matrix $(HOST)

# What CI would run after make test: the matrix with two hosts booted at
# a time (one emulated CPU each, so a 2-CPU machine without KVM runs two
# in the time of one), the two images built side by side on a cold
# machine, the test binaries compiled once for every host.
test-vm-ci: build
	VM_MATRIX_PARALLEL=2 bash scripts/vm-matrix $(HOST)

# The host-dependent core of the matrix, minutes per host: the cgroup
# limits on each host's real hierarchy and overlay's 200 layers.
test-vm-quick: build
	VM_MATRIX_SET=quick bash scripts/vm-matrix $(HOST)

# The workshop VM: a shell as root on the debian13-v2 host (Debian 13,
# pure cgroup v2, Docker 26) with the tools and lessons inside.
vm: build
	bash scripts/vm shell $(or $(HOST),debian13-v2)

bench: build
	bash scripts/bench

demo: build
	bash scripts/demo

clean:
	rm -rf bin
	$(GO) clean -testcache
