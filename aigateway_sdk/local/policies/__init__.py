"""The policies a data-plane request passes: authentication, rate limits, the cache."""
