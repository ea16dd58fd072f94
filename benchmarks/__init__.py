"""The project's benchmarks: `python -m benchmarks.peers` (run by `make bench`)."""
