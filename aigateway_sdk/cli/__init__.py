"""The `aigateway` command line."""
