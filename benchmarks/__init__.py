"""Benchmarks of ls-active against peer libraries (not part of the installed package)."""
