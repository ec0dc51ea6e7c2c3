# sim/: the deterministic simulator (docs/SIMULATION.md). It drives the core
# through pv_core_step() only and links $(CORE_LIB) plus its own objects.
#   make sim SEED=n              one run (SIM_ARGS="--verbose" for a trace)
#   make sim-swarm N=count       many random seeds on 2 processes
#   make sim-determinism         one seed twice: the trace hashes must match
#   make test-sim                unit tests, SIM_TEST_SEEDS seeds, determinism,
#                                and every seed of tests/sim-seeds.txt
SIM_SRCS      := $(filter-out sim/test_%.c,$(sort $(wildcard sim/*.c)))
SIM_OBJS      := $(SIM_SRCS:%.c=$(BUILD)/%.o)
SIM_BIN       := $(BUILD)/sim/pv-sim
SIM_UNIT      := $(BUILD)/sim/test-sim-units
SIM_UNIT_OBJS := $(BUILD)/sim/prng.o $(BUILD)/sim/queue.o $(BUILD)/sim/pool.o
SIM_FAKES     := $(BUILD)/sim/test-sim-fakes
SIM_WORLD_OBJS := $(filter-out $(BUILD)/sim/main.o $(BUILD)/sim/swarm.o,$(SIM_OBJS))
SIM_TEST_SEEDS ?= 1000
SEED          ?= 1
N             ?= 1000
SWARM_SEED    ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
DET_SEED      ?= 7

$(SIM_BIN): $(SIM_OBJS) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SIM_OBJS) $(CORE_LIB) -lm $(LDFLAGS) -o $@

$(SIM_UNIT): sim/test_sim.c $(SIM_UNIT_OBJS) tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit sim/test_sim.c $(SIM_UNIT_OBJS) -lm $(LDFLAGS) -o $@

$(SIM_FAKES): sim/test_fakes.c $(SIM_WORLD_OBJS) $(CORE_LIB) tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit sim/test_fakes.c $(SIM_WORLD_OBJS) $(CORE_LIB) -lm $(LDFLAGS) -o $@

-include $(SIM_OBJS:.o=.d)

all: $(SIM_BIN)

.PHONY: sim sim-swarm sim-determinism test-sim
sim: $(SIM_BIN)
	$(SIM_BIN) --seed $(SEED) $(SIM_ARGS)

sim-swarm: $(SIM_BIN)
	@sim/swarm.sh $(SIM_BIN) $(SWARM_SEED) $(N) $(BUILD)/sim $(SIM_ARGS)

sim-determinism: $(SIM_BIN)
	@sim/determinism.sh $(SIM_BIN) $(DET_SEED)

test-sim: $(SIM_BIN) $(SIM_UNIT) $(SIM_FAKES)
	@sim/test-sim.sh $(SIM_BIN) "$(SIM_UNIT) $(SIM_FAKES)" $(SIM_TEST_SEEDS) $(DET_SEED) tests/sim-seeds.txt $(BUILD)/sim

TEST_TARGETS += test-sim
