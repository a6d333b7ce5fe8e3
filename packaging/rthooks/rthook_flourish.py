"""Runtime hook: runs inside the frozen program before ``flourish_main``.

Alembic imports the migration scripts (``sql/migrations/versions/*.py``) from source files
shipped as data. CPython would then try to write ``__pycache__`` next to them, i.e. inside
the installed bundle, which may be read-only (Program Files, /opt, a signed .app) and must
never receive files anyway: data belongs in the platformdirs locations (``sync.paths``).
"""

import sys

sys.dont_write_bytecode = True
