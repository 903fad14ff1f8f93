"""Shared ephemeral state (sessions, cache, locks, queues, pub/sub, rate limits) in Redis or
PostgreSQL, behind one set of interfaces; see :mod:`trovato.store.base`."""

from trovato.store.base import (
    Cache,
    Handler,
    Job,
    LockManager,
    MessageTooLarge,
    PubSub,
    Queue,
    RateLimiter,
    RateLimitResult,
    SessionRead,
    SessionStore,
    SharedStore,
)
from trovato.store.factory import open_store

__all__ = [
    "Cache",
    "Handler",
    "Job",
    "LockManager",
    "MessageTooLarge",
    "PubSub",
    "Queue",
    "RateLimitResult",
    "RateLimiter",
    "SessionRead",
    "SessionStore",
    "SharedStore",
    "open_store",
]
