"""Benchmarks: `make bench` (or `python -m bench`) prints tables measured in one run."""
