"""Benchmarks: generated workloads with known truth, measured by `earful bench ...`."""
