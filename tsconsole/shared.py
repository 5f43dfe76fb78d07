"""Figures shared by everyone who asks within a few seconds.

Backlog counts and dashboard figures are aggregates over tens of thousands of rows; every lead's
and analyst's page (and its auto-refresh) asking for the same ones share one computation, kept in
the shared cache (Redis when configured) for a few seconds. Pages that show such figures say when
they were counted.
"""

from django.core.cache import cache


def shared_for(key: str, seconds: int, compute):
    """`compute()`, or what it returned for `key` less than `seconds` ago (0: always compute)."""
    if not seconds:
        return compute()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
