"""Benchmarks: ``python -m bench NAME [args]`` (or ``make bench BENCH=NAME``). Each prints its
figures; none is a test."""
