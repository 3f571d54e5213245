"""rlft: reinforcement-learning experiments with curricula, champions and fine-tuning."""

__version__ = "0.1.0"
