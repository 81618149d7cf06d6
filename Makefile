# Shortcuts; the scripts are the real entry points (they need only bash and Python 3.11+).
.PHONY: serve test lint clean

serve:
	scripts/serve

test:
	scripts/test

lint:
	scripts/lint

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
