# straw - the top-level commands.  Everything is built by CMake under build/.
#
#   make            release build of everything (build/release)
#   make demo       install what is missing, build, run the demo
#   make test       install what is missing, build with ASan+UBSan (clang,
#                   libFuzzer), run every test and each fuzz target; the
#                   tsan_threads test also builds the multi-thread tests with
#                   TSan in build/test/tsan and runs them there
#   make bench      run every benchmark suite (SUITE=name for one, QUICK=1)
#   make fuzz       run each fuzz target longer (FUZZ_SECONDS, default 300)
#   make chaos      release build, then the fault scenarios against its
#                   strawd (scripts/chaos.sh; not part of make test; the
#                   attacks of a second uid need root)
#   make format     apply .clang-format to every C file
#   make install    install (PREFIX, default /usr/local; DESTDIR honoured)

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 300
SUITE ?=
QUICK ?= 0

RELEASE = build/release
TESTDIR = build/test
FUZZDIR = build/fuzz

.PHONY: all release deps demo test bench fuzz chaos format install clean

all: release

release:
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release -DSTRAW_TESTS=OFF \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(RELEASE) -j $(JOBS)

deps:
	@scripts/install-deps.sh

demo: deps release
	@scripts/demo.sh $(RELEASE)

test: deps
	CC=clang cmake -S . -B $(TESTDIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSTRAW_SANITIZE=address,undefined -DSTRAW_FUZZ=ON
	cmake --build $(TESTDIR) -j $(JOBS)
	cd $(TESTDIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: deps release
	@scripts/bench.sh $(RELEASE) "$(SUITE)" "$(QUICK)"

fuzz: deps
	CC=clang cmake -S . -B $(FUZZDIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSTRAW_SANITIZE=address,undefined -DSTRAW_FUZZ=ON \
		-DSTRAW_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(FUZZDIR) -j $(JOBS)
	cd $(FUZZDIR) && ctest --output-on-failure -L fuzz

chaos: deps release
	@scripts/chaos.sh $(RELEASE)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

install: release
	cmake --install $(RELEASE) --prefix $(PREFIX)

clean:
	rm -rf build
