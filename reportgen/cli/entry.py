"""The `reportgen` command line: the one place that composes runners and the reporter.

User errors (bad input files, bad configs) exit with code 2 and a message that names
the file, row and field, without a traceback; see :func:`main`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, cast

import typer

from reportgen.rundir import errors as rundir_errors

if TYPE_CHECKING:
    from click import ClickException

app = typer.Typer(
    help="Run quick experiments on open-weight chat models and turn tidy results into weekly decks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class UserError(rundir_errors.UserError):
    """An error caused by the user's input; printed as one message, exit code 2."""


def _register() -> None:
    # Each module adds its commands to ``app``; kept in separate modules so the
    # reporter's and the runners' commands stay independent.
    from reportgen.cli import charts as cli_charts  # noqa: F401
    from reportgen.cli import deck as cli_deck  # noqa: F401
    from reportgen.cli import formats as cli_formats  # noqa: F401
    from reportgen.cli import imports as cli_import  # noqa: F401
    from reportgen.cli import run as cli_run  # noqa: F401
    from reportgen.cli import sweep as cli_sweep  # noqa: F401
    from reportgen.cli import weekly as cli_weekly  # noqa: F401


def main() -> None:
    """Entry point: run the app, turning user errors into exit code 2 without a traceback."""
    _register()
    try:
        code = app(standalone_mode=False)
    except rundir_errors.UserError as exc:  # the one root of bad input, runners' errors included
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except OSError as exc:
        # A file that vanished or a disk that filled up mid-run: the OS's words, one line.
        if exc.filename is None:
            raise
        typer.secho(f"error: {exc.filename}: {exc.strerror or exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        if isinstance(exc, _click_exceptions()):
            usage = cast("ClickException", exc)  # typer's vendored copy has the same interface
            usage.show()
            sys.exit(usage.exit_code)
        raise
    # In non-standalone mode click returns a command's exit code instead of exiting.
    sys.exit(code if isinstance(code, int) else 0)


def _click_exceptions() -> tuple[type[Exception], ...]:
    """Click's exception class, and typer's vendored copy of it in newer typer releases."""
    import click

    classes: list[type[Exception]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException as VendoredClickException
    except ImportError:
        pass
    else:
        classes.append(VendoredClickException)
    return tuple(classes)
