"""HTTP routers. Thin: parse, call a service, shape the response."""
