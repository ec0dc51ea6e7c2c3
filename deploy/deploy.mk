# deploy/: deployment assets and their smoke tests against real servers
# (nginx, coturn, LiveKit on 127.0.0.1). `make test-deploy` runs
# tests/deploy/run.sh, which prints "deploy: N passed, M failed".
.PHONY: test-deploy install-deps
test-deploy:
	@bash tests/deploy/run.sh

install-deps:
	bash deploy/install-deps.sh

TEST_TARGETS += test-deploy

# The demo stack and its browser test (make demo, make test-demo).
-include deploy/demo.mk
