"""Accord's benchmarks: ``python -m bench`` runs them all, ``python -m bench NAME`` one.

Each benchmark prints its figures; the figures are recorded with the machine and the date
in docs/benchmarks.md. None of them is a test: nothing here asserts a timing.
"""
