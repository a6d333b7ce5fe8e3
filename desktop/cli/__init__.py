"""The ``flourish`` command: the desktop app and its scriptable commands.

It lives in ``desktop`` because it is the program's front door: ``flourish`` with no
command (or ``app``/``demo``) opens the Qt window, and every other command reaches the same
data-layer functions the window uses. Qt is imported only by the commands that show a
window, so headless commands (``sync``, ``status``, ``server ...``) run without a display.

Exit codes: 0 success, 1 failure (one-line reason on stderr), 2 bad usage.
The command names and options are a contract (see ``README.md``); keep them.

Layout: :mod:`~desktop.cli.main` (the parser and the dispatch: each subcommand names its
handler function), :mod:`~desktop.cli._common` (the one usage error and store opener), and
one module per group of commands — :mod:`~desktop.cli.app`, :mod:`~desktop.cli.account`,
:mod:`~desktop.cli.teaching`, :mod:`~desktop.cli.data`, :mod:`~desktop.cli.server`,
:mod:`~desktop.cli.assess`.
"""

import gc as _gc

# Importing the commands makes some hundred thousand objects and no garbage: the cyclic
# collector would only walk them again and again (a sixth of start-up). It is off for the
# imports and back as it was right after.
_collecting = _gc.isenabled()
_gc.disable()
try:
    from desktop.cli.main import main
finally:
    if _collecting:
        _gc.enable()

__all__ = ["main"]
