"""The FastAPI server: app factory, settings, database, routers, services, background work."""
