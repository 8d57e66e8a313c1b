"""gunicorn reads this file from the working directory by default (`gunicorn 'app:create_app()'`).

Rate limits and the per-account lockout count in RATELIMIT_STORAGE_URI. In memory, each worker
counts alone, so N workers give every client N times its budget and every account N times its
tries: say so loudly at start, once, instead of letting a deployment discover it.
"""

import os


def when_ready(server):
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "local://")
    in_memory = storage.startswith(("local://", "memory://"))
    if server.cfg.workers > 1 and in_memory:
        server.log.warning(
            "WARNING: %d workers share no rate-limit store (RATELIMIT_STORAGE_URI=%s): each worker "
            "counts sign-in attempts, lockouts and verifications alone, so the limits are %d times "
            "looser. Set RATELIMIT_STORAGE_URI=redis://… for production.",
            server.cfg.workers, storage, server.cfg.workers,
        )
