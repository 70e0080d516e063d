"""Benchmark helpers: a synthetic corpus generator (:mod:`bench.generate`)."""
