"""Fine-tuning a registered champion (``champion=<name>``)."""
