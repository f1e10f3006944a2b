"""Micro-benchmarks (scripts, not tests): ``python -m evals.benchmarks.<name>``."""
