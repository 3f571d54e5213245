"""Curricula: ordered stages with transfer, per-stage hyperparameters and promotion rules."""
