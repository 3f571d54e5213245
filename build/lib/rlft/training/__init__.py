"""One training run: model, callbacks (evaluation, checkpoints, early stopping, progress), resume."""
