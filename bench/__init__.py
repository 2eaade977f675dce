"""Benchmarks: one command each, printing the figures and a baseline measured in the same run."""
