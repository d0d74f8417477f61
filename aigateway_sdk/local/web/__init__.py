"""HTTP plumbing both planes share: bodies, query parameters, Cloudflare errors, connections."""
