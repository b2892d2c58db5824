# Two commands for a newcomer: `make run` (set up and serve with demo data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run test install db demo clean bench

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kyros needs Python 3.11 or newer")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

db: install
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask kyros demo-data

run: demo
	@echo
	@echo "Kyros is at http://$(HOST):$(PORT)/  (stop with Ctrl-C)"
	@echo "Demo logins, password 'kyros-demo': admin@kyros.example, planner@kyros.example,"
	@echo "                                     buyer@kyros.example, viewer@kyros.example"
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

bench: install
	$(BIN)/python -m tests.benchmarks.bench_imports --runs 3
	$(BIN)/python -m tests.benchmarks.bench_load
	$(BIN)/python -m tests.benchmarks.bench_pages
	$(BIN)/python -m tests.benchmarks.bench_grid
	$(BIN)/python -m tests.benchmarks.bench_mixed
	$(BIN)/python -m tests.benchmarks.bench_large
