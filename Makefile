# The two commands: `make run` and `make test` (see README.md).
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc)
MAKEFLAGS  += --no-print-directory
TEST_T0    := $(shell date +%s)
# test-systemd within `make test`: only when this much time is left of CI's
# limit (a cold run here: deb ~1 min, debootstrap ~2 min, checks ~6 min)
CI_LIMIT_S       ?= 5400
SYSTEMD_BUDGET_S ?= 1500
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
DEB_ARCH    = $(shell dpkg --print-architecture)

.PHONY: all deps build run test clean users deb test-systemd test-systemd-if-it-fits

all: build

deps:
	@sh tools/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

users: deps
	@sh tools/make-users

run: build
	@if [ "$$(id -u)" = 0 ]; then sh tools/make-users; fi
	@sh tools/run-dev $(BUILD)

# The release build (gcc, -Werror) must stay clean too, then the sanitizer
# build with clang so the libFuzzer harnesses build; ctest runs on the latter.
# The forbidden-action matrix runs on the release build's code too, built
# apart with the test hooks (never in $(BUILD), which `make run` and the
# package use): only the role executables, tfoctl and tfo-sink.
HOOKS_BUILD ?= $(BUILD)-hooks
HOOKS_TARGETS = tfo-supervisor tfo-system tfo-process tfo-procpriv tfo-logs tfo-buffer \
	tfo-exporter tfo-heartbeat tfoctl tfo-sink

test: build
	@if [ "$$(id -u)" = 0 ] && [ -x tools/make-users ]; then sh tools/make-users; fi
	@cmake -S . -B $(HOOKS_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTFO_TEST_HOOKS=ON >/dev/null
	@cmake --build $(HOOKS_BUILD) -j $(JOBS) --target $(HOOKS_TARGETS)
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_C_COMPILER=clang -DTFO_SANITIZE=ON \
		-DTFO_FUZZ=ON -DTFO_TEST_HOOKS=ON -DCMAKE_BUILD_TYPE=Debug \
		-DTFO_RELEASE_BIN=$(abspath $(BUILD))/bin \
		-DTFO_RELEASE_HOOKS_BIN=$(abspath $(HOOKS_BUILD))/bin >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) test-systemd-if-it-fits

# The Debian package (debian/, dpkg-buildpackage), built from a copy of the
# tree in $(BUILD)/deb/; the .deb lands there.
deb: deps
	@JOBS=$(JOBS) sh tools/build-deb $(BUILD)/deb

# The package under a real systemd: boots a Debian root (debootstrap, cached
# in $(BUILD)/systemd/) with systemd-nspawn and checks install, reload,
# crashes, watchdog, stop, upgrade and purge (docs/testing.md). Needs root;
# exit status 77 from the test = this host cannot boot it (reason printed).
test-systemd: build deb
	@rc=0; python3 tests/systemd/run.py --cache $(BUILD)/systemd --sink $(BUILD)/bin/tfo-sink \
		--deb $(BUILD)/deb/tfo-agent_$(DEB_VERSION)_$(DEB_ARCH).deb || rc=$$?; \
	if [ $$rc = 77 ]; then exit 0; fi; exit $$rc

test-systemd-if-it-fits:
	@spent=$$(( $$(date +%s) - $(TEST_T0) )); \
	if [ "$$(id -u)" != 0 ]; then \
		echo "test-systemd: SKIPPED: needs root (debootstrap, overlay mount, systemd-nspawn)"; \
	elif [ $$(( spent + $(SYSTEMD_BUDGET_S) )) -gt $(CI_LIMIT_S) ]; then \
		echo "test-systemd: SKIPPED: $$spent s spent; its $(SYSTEMD_BUDGET_S) s would pass the $(CI_LIMIT_S) s limit"; \
	else $(MAKE) test-systemd; fi

clean:
	rm -rf $(BUILD) $(HOOKS_BUILD) $(TEST_BUILD)
