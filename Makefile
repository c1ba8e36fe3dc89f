# Quick start: `make run` (an example on the embedded Temporal server) and `make test`.
# Both create .venv and install everything first; only Python 3.11+ and make are needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-llm run-agent run-evolve test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	SOE_TOOLS=examples.tools:TOOLS $(BIN)/soe-temporal run examples/approval.yaml \
		--workflow waiting_workflow --signal START --then-signal APPROVED \
		--context '{"request": "new laptop"}'

# LLM nodes, offline with the fake provider (set SOE_LLM=openai ... for a real model).
run-llm: $(STAMP)
	$(BIN)/soe-temporal run examples/analyze_summarize.yaml --workflow example_workflow \
		--signal START --context '{"input": "Q3 revenue grew 12%, costs grew 3%"}'

# An agent calling the example tools, offline with the fake provider.
run-agent: $(STAMP)
	SOE_TOOLS=examples.tools:TOOLS $(BIN)/soe-temporal run examples/research_agent.yaml \
		--workflow research --signal START --context '{"question": "What does Temporal record?"}'

# A self-evolving workflow: an agent injects a workflow and a node, then triggers them.
run-evolve: $(STAMP)
	$(BIN)/soe-temporal run examples/self_evolving.yaml --workflow main --signal START \
		--context '{"draft": "Temporal keeps workflow state durable."}'

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check soe_temporal tests examples benchmarks workers starter
	$(BIN)/ruff format --check soe_temporal tests examples benchmarks workers starter

# bench_instructions and bench_live_instructions need valgrind: where it is missing, they
# say so and the others still run.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_nodes --nodes 50 --repeats 9
	$(BIN)/python -m benchmarks.bench_nodes --nodes 50 --local-only --repeats 31
	$(BIN)/python -m benchmarks.bench_nodes --nodes 2000 --local-only
	$(BIN)/python -m benchmarks.bench_fanout --children 1000
	$(BIN)/python -m benchmarks.bench_fanout --children 1000 --fresh-servers
	$(BIN)/python -m benchmarks.bench_signals --executions 2000
	$(BIN)/python -m benchmarks.bench_footprint --nodes 50 500 2000
	-$(BIN)/python -m benchmarks.bench_instructions --nodes 50 500
	-$(BIN)/python -m benchmarks.bench_live_instructions --nodes 50 500
	$(BIN)/python -m benchmarks.bench_engine
	$(BIN)/python -m benchmarks.bench_conversation --turns 100 400 1000 --runs 3

clean:
	rm -rf $(VENV) .pytest_cache .soe-temporal
