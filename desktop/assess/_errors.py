"""The AI pipeline's exceptions (re-exported from :mod:`desktop.assess`).

They extend the data layer's tree, so the CLI and the app's one error display handle them
like any other :class:`~sync.errors.FlourishError`::

    FlourishError
    └── AssessmentError          the AI pipeline cannot run at all; nothing was sent
        ├── AssessmentConfigError  settings unusable: no model, no API key for the endpoint
        ├── PromptError            a prompt resource is malformed (names the file and field)
        └── AssessmentBusyError    another run is already working on this store

Problems with single calls or single proposals are *not* exceptions: offline, timeouts,
rate limits, refusals and invalid output leave the entry waiting or failed with its reason
in ``assessment_jobs`` (see :func:`desktop.assess.awaiting_entries`) and are counted in the
:class:`~desktop.assess.RunReport`.
"""

from __future__ import annotations

from sync.errors import FlourishError

__all__ = ["AssessmentBusyError", "AssessmentConfigError", "AssessmentError", "PromptError"]


class AssessmentError(FlourishError):
    """The AI assessment pipeline cannot run."""


class AssessmentConfigError(AssessmentError):
    """The AI settings are incomplete or invalid."""


class PromptError(AssessmentError):
    """A prompt resource file is malformed."""


class AssessmentBusyError(AssessmentError):
    """Another assessment run is in progress on the same store."""
