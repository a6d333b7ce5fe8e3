"""``python -m desktop.cli``: the same as the ``flourish`` command."""

from desktop.cli.main import main

raise SystemExit(main())
