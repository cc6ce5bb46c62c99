# Campus: the two commands are `make run` and `make test`.
# Both install what they need, build with CMake and start their own servers.

# The sanitizer build the tests use, and the optimised one `make run` uses.
BUILD      ?= build
RUNBUILD   ?= build-run
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
DATA       ?= var
FUZZ_SECONDS ?= 20

.PHONY: all deps build run test bench check clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Debug -DCAMPUS_SANITIZE=ON
	cmake --build $(BUILD) -j $(JOBS)

run: deps
	cmake -S . -B $(RUNBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAMPUS_TESTS=OFF
	cmake --build $(RUNBUILD) -j $(JOBS)
	sh scripts/run.sh $(RUNBUILD) $(DATA)

test: build
	@sh scripts/npm-deps.sh
	cd $(BUILD) && FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --output-on-failure --timeout 900 -j 2

check: deps
	cmake -S . -B $(RUNBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAMPUS_TESTS=OFF
	cmake --build $(RUNBUILD) -j $(JOBS)
	$(RUNBUILD)/daemon/campusd --check courses

bench: deps
	@sh scripts/deps.sh bench
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCAMPUS_TESTS=ON
	cmake --build build-bench -j $(JOBS)
	sh tests/bench/run.sh build-bench

clean:
	rm -rf $(BUILD) $(RUNBUILD) build-bench
