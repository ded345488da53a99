# The two commands: `make run` and `make test` (see README.md).
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc)
MAKEFLAGS  += --no-print-directory

.PHONY: all deps build run test clean users deb test-systemd

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
test: build
	@if [ "$$(id -u)" = 0 ] && [ -x tools/make-users ]; then sh tools/make-users; fi
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_C_COMPILER=clang -DTFO_SANITIZE=ON \
		-DTFO_FUZZ=ON -DTFO_TEST_HOOKS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

# The Debian package (debian/, dpkg-buildpackage), built from a copy of the
# tree in $(BUILD)/deb/; the .deb lands there.
deb: deps
	@JOBS=$(JOBS) sh tools/build-deb $(BUILD)/deb

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
