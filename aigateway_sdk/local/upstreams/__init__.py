"""Where model calls go: the built-in deterministic model, OpenAI-compatible forwarding, faults."""
