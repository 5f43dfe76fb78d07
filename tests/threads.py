"""Concurrency tests' helper: real threads, each with its own database connection."""

import threading

from django.db import close_old_connections, connection


def run_together(*calls, timeout: float = 60):
    """Start every call at the same moment in its own thread (own connection); return, in order,
    what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
