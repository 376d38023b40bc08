"""One runner per run: a lease row with a heartbeat.

A runner takes the lease of its run before it sends anything and renews it every ``HEARTBEAT_S``
while it runs; a second runner (another terminal, or the dashboard's "finish" button) is refused
with ``RunBusy`` while the lease is alive. A lease is dead when it expired (``LEASE_TTL_S`` after the
last heartbeat) or, on the same host, when its process no longer exists (so ``kill -9`` + resume does
not wait for the expiry). Leases compare wall-clock seconds across processes; ``clock`` is injectable.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from time import time

from imagegen.errors import RunBusy
from imagegen.storage.db import Database, now_iso

LEASE_TTL_S = 15.0
HEARTBEAT_S = 3.0


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except OSError:
        return True
    return True


@dataclass(frozen=True)
class LeaseInfo:
    """The lease row of a run."""

    run_id: str
    owner: str
    host: str
    pid: int
    heartbeat_at: float
    expires_at: float

    def alive(self, now: float) -> bool:
        """Held by a runner that may still be running."""
        if self.expires_at <= now:
            return False
        return not (self.host == socket.gethostname() and not _process_exists(self.pid))


class Lease:
    """The lease of one run held by this runner (``owner`` is a random token)."""

    def __init__(self, db: Database, run_id: str, clock: Callable[[], float] = time, ttl_s: float = LEASE_TTL_S):
        self.db, self.run_id, self.clock, self.ttl_s = db, run_id, clock, ttl_s
        self.owner = uuid.uuid4().hex
        self.held = False

    def current(self) -> LeaseInfo | None:
        """The run's lease row, whoever holds it."""
        with self.db.read() as conn:
            row = conn.execute("SELECT run_id, owner, host, pid, heartbeat_at, expires_at FROM leases"
                               " WHERE run_id = ?", (self.run_id,)).fetchone()
        return None if row is None else LeaseInfo(*row)

    def check_free(self) -> None:
        """Raise ``RunBusy`` when another live runner holds the lease (nothing is written)."""
        info = self.current()
        if info is not None and info.owner != self.owner and info.alive(self.clock()):
            raise RunBusy(self._busy_message(info))

    def acquire(self) -> None:
        """Take the lease (atomically), or raise ``RunBusy`` naming the runner that holds it."""
        now = self.clock()
        with self.db.write() as conn:
            row = conn.execute("SELECT run_id, owner, host, pid, heartbeat_at, expires_at FROM leases"
                               " WHERE run_id = ?", (self.run_id,)).fetchone()
            if row is not None:
                info = LeaseInfo(*row)
                if info.owner != self.owner and info.alive(now):
                    raise RunBusy(self._busy_message(info))
            conn.execute(
                "INSERT INTO leases (run_id, owner, host, pid, acquired_at, heartbeat_at, expires_at)"
                " VALUES (:run_id, :owner, :host, :pid, :acquired_at, :now, :expires)"
                " ON CONFLICT(run_id) DO UPDATE SET owner = excluded.owner, host = excluded.host,"
                " pid = excluded.pid, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at,"
                " expires_at = excluded.expires_at",
                {"run_id": self.run_id, "owner": self.owner, "host": socket.gethostname(), "pid": os.getpid(),
                 "acquired_at": now_iso(), "now": now, "expires": now + self.ttl_s})
        self.held = True

    def heartbeat(self) -> bool:
        """Renew the lease; False when it was lost (it expired and another runner took it)."""
        now = self.clock()
        with self.db.write() as conn:
            cur = conn.execute("UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE run_id = ? AND owner = ?",
                               (now, now + self.ttl_s, self.run_id, self.owner))
        self.held = cur.rowcount == 1
        return self.held

    def release(self) -> None:
        """Give the lease up (only ours)."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM leases WHERE run_id = ? AND owner = ?", (self.run_id, self.owner))
        self.held = False

    def _busy_message(self, info: LeaseInfo) -> str:
        age = max(0.0, self.clock() - info.heartbeat_at)
        where = "this process" if info.pid == os.getpid() and info.host == socket.gethostname() else \
            f"process {info.pid} on {info.host}"
        return (f"run {self.run_id} is already running in {where} (last heartbeat {age:.0f} s ago); a second "
                "runner would send its missing cells twice. Fix: wait for it to finish or cancel it there; if "
                f"that process died, its lease expires within {self.ttl_s:.0f} s and --resume takes over.")
