"""Judging models: evaluation over stages, comparison, with intervals (``rlft.evaluate``, ``rlft.compare``)."""
