"""The frozen program's entry point: the ``flourish`` console script, ``desktop.cli:main``.

PyInstaller needs a script rather than an entry point string; this is that script and
nothing else. Running it from a source checkout behaves exactly like ``.venv/bin/flourish``.
"""

from __future__ import annotations

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
