# io/shell.mk: the daemon's own tests and benchmark (included by io/io.mk).
#
#   make test-blackbox   black-box suite against the running binary
#   make test-ev-curl    the libcurl-multi client against a local server
#   make bench-http      loopback load generator (poses/s, p99)
#
# Sanitizers: make BUILD=build/asan SAN=address,undefined OPT=-O1 test-blackbox

BLACKBOX_SRCS := $(sort $(wildcard tests/blackbox/*.c))
BLACKBOX_BIN  := $(BUILD)/tests/blackbox/blackbox
# The black-box client mints tokens with the codec library (the same
# formats a game server would use) and signs RS256/ES256 with BearSSL.
$(BLACKBOX_BIN): $(BLACKBOX_SRCS) $(wildcard tests/blackbox/*.h) $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-format-truncation -Itests/blackbox $(BLACKBOX_SRCS) $(IO_LIB) $(CORE_LIB) $(IO_LIBS) \
	  $(LDFLAGS) -o $@

.PHONY: test-blackbox
test-blackbox: $(DAEMON) $(BLACKBOX_BIN)
	$(BLACKBOX_BIN) $(DAEMON)
TEST_TARGETS += $(if $(BLACKBOX_SRCS),test-blackbox)

# The HTTP client needs a loop: linked with the shell objects except main.
EVCURL_TEST := $(BUILD)/tests/io/ev/test_ev_curl
$(EVCURL_TEST): tests/io/ev/test_ev_curl.c $(filter-out $(BUILD)/io/main.o,$(IO_SHELL_OBJS)) \
                $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(filter-out $(BUILD)/io/main.o,$(IO_SHELL_OBJS)) \
	  $(IO_LIB) $(CORE_LIB) $(IO_LIBS) $(SHELL_LIBS) $(LDFLAGS) -o $@

.PHONY: test-ev-curl
test-ev-curl: $(EVCURL_TEST)
	$(EVCURL_TEST)
TEST_TARGETS += $(if $(wildcard tests/io/ev/test_ev_curl.c),test-ev-curl)

# Load generator: always -O2, plain blocking sockets + threads.
BENCH_HTTP := $(BUILD)/tests/bench/bench_http
$(BENCH_HTTP): tests/bench/bench_http.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out $(OPT),$(CFLAGS)) -O2 $< -lpthread -lm $(LDFLAGS) -o $@

.PHONY: bench-http
bench-http: $(DAEMON) $(BENCH_HTTP)
	$(BENCH_HTTP) --daemon $(DAEMON)
bench: $(if $(wildcard tests/bench/bench_http.c),bench-http)

all: $(if $(BLACKBOX_SRCS),$(BLACKBOX_BIN))
