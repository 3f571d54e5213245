"""Sweeps (``python -m rlft.train -m ...``): job records, failure isolation and the sweep summary."""
