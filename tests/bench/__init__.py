"""Benchmark of the proxy against a direct connection and a minimal aiohttp reference proxy.

Run from the repository root::

    .venv/bin/python -m tests.bench

See docs/performance.md for what it measures and how to read the table. Not part of the
pytest run (``norecursedirs`` excludes this folder).
"""
