"""The one exception root of reportgen and the runners, and the seam's own errors.

Both halves raise errors a person can fix (a misspelt YAML key, a CSV saved by a
spreadsheet, a run directory holding another config's run); the CLI must print those as
one line with exit code 2 and show a traceback for everything else. One root,
:class:`ReportgenError`, with :class:`UserError` beneath it lets the CLI and the weekly job
tell the two apart with ``isinstance`` instead of matching class names. It lives in the
seam so runners (``experiments``) can subclass it without importing the reporter.
"""

from __future__ import annotations


class ReportgenError(Exception):
    """Root of every error reportgen or a runner raises on purpose."""


class UserError(ReportgenError):
    """Bad input the user can fix; the CLI prints the message and exits with code 2."""


class RunDirError(UserError):
    """A run directory cannot be written or resumed (e.g. it holds a run with another config)."""
