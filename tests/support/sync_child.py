"""A sync run in its own process, for the crash test (which kills it with SIGKILL).

python -m tests.support.sync_child DATA_DIR TOKEN [BATCH] [PAGE]

The store is signed in to a service; TOKEN is its device token.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sync.replication.engine import SyncEngine
from sync.store.local import LocalStore


def main() -> int:
    folder, token = Path(sys.argv[1]), sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    page = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    with LocalStore.open(folder / "flourish.sqlite3", create=False) as store:
        engine = SyncEngine.from_store(store, token=token, batch_size=batch, page_size=page)
        with engine:
            report = engine.sync_once(progress=lambda p, d, t: print(p, d, flush=True))
    print("done", report.summary(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
