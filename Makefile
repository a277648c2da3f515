# recon - build, test, demo, bench.
#
#   make            build build/recon (release, -O2)
#   make deps       install the Debian packages a fresh machine lacks
#   make demo       deps + build + run the demo job on the bundled fixtures
#   make test       deps + unit tests (cmocka) + end-to-end tests, then the same
#                   suite again under AddressSanitizer + UndefinedBehaviorSanitizer
#   make check      the suite once, without sanitizers (quick local loop)
#   make san        the suite once, under ASan + UBSan only
#   make tsan       the threaded code's tests (read-ahead ring, ingest --shards)
#                   under ThreadSanitizer; make test runs it last
#   WERROR=1        turn warnings into errors (CI sets it)

CC       ?= cc
OPT      ?= -O2 -g
SAN      ?= 0
TSAN     ?= 0
WERROR   ?= 0

STD      = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN     = -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion -Wfloat-equal \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
ifeq ($(WERROR),1)
WARN    += -Werror
endif

ifeq ($(TSAN),1)
BUILD    = build/tsan
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
OPT      = -O1 -g
else ifeq ($(SAN),1)
BUILD    = build/san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      = -O1 -g
else
BUILD    = build/rel
SANFLAGS =
endif

PKGS     = sqlite3 libcrypto inih
CFLAGS   = $(STD) $(OPT) $(WARN) $(SANFLAGS) -pthread -Iengine -I$(BUILD)/gen \
           -DRECON_PROFILE_DIR=\"$(CURDIR)/schemas/profiles\" \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -pthread
LDFLAGS  = $(SANFLAGS)

ENGINE_SRC = $(wildcard engine/*.c)
ENGINE_OBJ = $(patsubst engine/%.c,$(BUILD)/obj/%.o,$(ENGINE_SRC))
LIB_OBJ    = $(filter-out $(BUILD)/obj/main.o,$(ENGINE_OBJ))
SQL_SRC    = $(wildcard schemas/*.sql) $(wildcard schemas/migrations/*.sql)
GEN_C      = $(BUILD)/gen/embedded_sql.c
GEN_OBJ    = $(BUILD)/obj/embedded_sql.o

UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

RECON      = $(BUILD)/recon

.PHONY: all deps demo test check san tsan unit e2e bench fuzz clean lint

all: $(RECON)

deps:
	@sh scripts/install-deps.sh

$(BUILD)/obj/%.o: engine/%.c $(wildcard engine/*.h) Makefile | $(BUILD)/obj $(BUILD)/gen/embedded_sql.h
	$(CC) $(CFLAGS) -c $< -o $@

# One run writes both files (&: groups them), so make -j never runs it twice at once.
$(GEN_C) $(BUILD)/gen/embedded_sql.h &: $(SQL_SRC) scripts/embed-sql.sh | $(BUILD)/gen
	sh scripts/embed-sql.sh $(BUILD)/gen $(SQL_SRC)

$(GEN_OBJ): $(GEN_C)
	$(CC) $(CFLAGS) -Wno-overlength-strings -c $< -o $@

$(RECON): $(ENGINE_OBJ) $(GEN_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) $(GEN_OBJ) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka) $< $(LIB_OBJ) $(GEN_OBJ) \
		$(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs cmocka) -o $@

$(BUILD)/obj $(BUILD)/gen $(BUILD)/tests:
	mkdir -p $@

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

e2e: $(RECON)
	@sh tests/e2e/run.sh $(RECON)

# The whole suite once, in the current SAN mode.
check: $(RECON) $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)
	@sh tests/e2e/run.sh $(RECON)

san:
	$(MAKE) SAN=1 check

# ThreadSanitizer needs a build of its own; only the tests that run threads use it.
tsan:
	$(MAKE) TSAN=1 build/tsan/recon build/tsan/tests/test_readahead
	@sh tests/run-tsan.sh build/tsan

# What the README and CI run: plain build, then the sanitizers.
test: deps
	$(MAKE) check
	$(MAKE) SAN=1 check
	$(MAKE) tsan

demo: deps $(RECON)
	sh scripts/demo.sh $(RECON)

bench: deps $(RECON)
	sh tests/bench/run.sh $(RECON)

lint:
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
		--suppress=missingIncludeSystem -Iengine engine && echo "lint: cppcheck found nothing"

clean:
	rm -rf build
