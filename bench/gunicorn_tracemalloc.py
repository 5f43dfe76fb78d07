"""gunicorn settings for `bench/memory.py --tracemalloc`: every worker traces its allocations and,
on SIGUSR2, writes a tracemalloc snapshot to $TSC_TRACEMALLOC_DIR/<pid>-<n>.snap (n counts up)."""

import os
import signal
import tracemalloc


def post_worker_init(worker):
    tracemalloc.start(int(os.environ.get("TSC_TRACEMALLOC_FRAMES", "6")))
    taken = [0]

    def dump(signum, frame):
        taken[0] += 1
        path = os.path.join(os.environ["TSC_TRACEMALLOC_DIR"], f"{os.getpid()}-{taken[0]}.snap")
        tracemalloc.take_snapshot().dump(path + ".tmp")
        os.replace(path + ".tmp", path)

    signal.signal(signal.SIGUSR2, dump)
