"""Micro-benchmarks (scripts, not tests): ``python -m codeagent.evals.benchmarks.<name>``."""
