"""Persistence: SQLAlchemy 2 async models, engines, Alembic migrations and the event log."""

from comfyhangar.server.db.engine import make_engine, make_sessionmaker
from comfyhangar.server.db.events import append_event, events_after, last_event_id
from comfyhangar.server.db.migrate import migrate
from comfyhangar.server.db.models import Base, Deployment, Event, Pod

__all__ = [
    "Base",
    "Deployment",
    "Event",
    "Pod",
    "append_event",
    "events_after",
    "last_event_id",
    "make_engine",
    "make_sessionmaker",
    "migrate",
]
