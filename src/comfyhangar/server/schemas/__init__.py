"""The HTTP API's request and response models (what clients send and get)."""
