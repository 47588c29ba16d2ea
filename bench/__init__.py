"""Benchmarks that operators run: python -m bench.<part>."""
