# tests/ws: the policy socket (WebSocket) -- protocol tests against the real
# daemon, and the fan-out benchmark.
#
#   make test-ws                 protocol suite (C, wslay in client mode)
#   make test-ws WS_FILTER=auth  only the cases whose name contains "auth"
#   make bench-ws                10,000 sockets, 100 rooms x 100 players at 4 Hz
#
# The suite reuses the black-box kit of tests/blackbox (daemon process, HTTP
# client, fake LiveKit) and links the io codecs to mint tokens.
WS_TEST_SRCS := $(sort $(wildcard tests/ws/*.c))
WS_KIT_SRCS  := tests/blackbox/bb_proc.c tests/blackbox/bb_http.c tests/blackbox/bb_fakelk.c \
                tests/blackbox/bb_run.c
WS_TEST_BIN  := $(BUILD)/tests/ws/test_ws
WS_FILTER    ?=

$(WS_TEST_BIN): $(WS_TEST_SRCS) $(wildcard tests/ws/*.h) $(WS_KIT_SRCS) $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-format-truncation -Itests/ws -Itests/blackbox $(WS_TEST_SRCS) $(WS_KIT_SRCS) $(IO_LIB) \
	  $(CORE_LIB) $(IO_LIBS) -lpthread $(LDFLAGS) -o $@

.PHONY: test-ws
test-ws: $(DAEMON) $(WS_TEST_BIN)
	$(WS_TEST_BIN) $(DAEMON) $(WS_FILTER)
TEST_TARGETS += test-ws

# Benchmark: a load generator on one thread with epoll (no wslay: it frames
# and parses by hand to stay cheap at 10,000 sockets).
BENCH_WS := $(BUILD)/tests/bench/bench_ws
$(BENCH_WS): tests/bench/bench_ws.c $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out $(OPT),$(CFLAGS)) -O2 tests/bench/bench_ws.c $(IO_LIB) $(CORE_LIB) \
	  $(IO_LIBS) -lm -lpthread $(LDFLAGS) -o $@

.PHONY: bench-ws
bench-ws: $(DAEMON) $(BENCH_WS)
	$(BENCH_WS) --daemon $(DAEMON)
bench: $(if $(wildcard tests/bench/bench_ws.c),bench-ws)
