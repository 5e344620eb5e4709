# Township Kiosk — the two commands: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint screenshots debs debs-test debs-bench clean

debs:
	@bash scripts/ensure-debian-packages.sh core

debs-test:
	@bash scripts/ensure-debian-packages.sh test

debs-bench:
	@bash scripts/ensure-debian-packages.sh bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: debs $(STAMP)
	$(BIN)/python -m kiosk --log-format text demo

TEST_WORKERS ?= 2

test: debs-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --durations=15

bench: debs-bench $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .

screenshots: debs $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m ui.demo.screenshots docs/screenshots

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
