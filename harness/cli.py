"""The `harness` command. The one place where errors become exit statuses."""

from __future__ import annotations

import errno
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType

import typer
from typer._click import exceptions as click_errors  # private: why, in main()

from harness import settings
from harness.errors import HarnessError
from harness.status import ExitStatus

__all__ = ["build_app", "main"]

# One thin module per command, each with register(app).
COMMANDS = (
    "run", "up", "down", "scenarios", "validate", "dashboards", "rules", "monitors", "compare",
    "baseline", "plan", "drill", "replay", "schema", "export",
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="harness",
        help="Does this ServiceDesk deployment keep its promises? Load, verify, report.",
        no_args_is_help=True,
        add_completion=True,  # --install-completion, --show-completion
        # markdown: typer's "rich" mode keeps a docstring's line breaks as hard breaks,
        # so a summary wrapped in the source broke mid-sentence on the terminal
        rich_markup_mode="markdown",
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _root(
        debug: bool = typer.Option(
            False, "--debug", envvar=settings.ENV_DEBUG, help="Show tracebacks for errors."
        ),
    ) -> None:
        """ServiceDesk harness."""

    import importlib

    for name in COMMANDS:
        module = importlib.import_module(f"harness.commands.{name}")
        module.register(app)
    return app


# Errors about a path itself (too long, a file where a folder should be, no permission), as
# opposed to the machine's trouble (disk full, too many open files).
_PATH_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EACCES,
                          errno.EPERM, errno.EROFS, errno.ENOENT, errno.EEXIST, errno.ELOOP})


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get(settings.ENV_DEBUG, "") not in ("", "0", "false")
    # SIGTERM ends a run the way Ctrl-C does: stop everything, keep a partial report.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        command = typer.main.get_command(build_app())
        result = command.main(args=args, prog_name="harness", standalone_mode=False)
        return int(result) if isinstance(result, int) else int(ExitStatus.OK)
    except typer.Exit as exc:
        return int(exc.exit_code)
    # typer vendors click as typer._click and raises those classes: the click package another
    # dependency installs has different ones, so `import click` would catch nothing. typer's
    # public names cover only their base (typer.TyperException) and BadParameter; UsageError (with
    # the command path) and NoArgsIsHelpError (the help was shown) have none: typer itself tells
    # the latter by its class name. Hence the private module.
    except click_errors.NoArgsIsHelpError:
        return int(ExitStatus.BAD_CONFIG)  # the help was shown
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "harness"
        print(f"{where}: error: {_one_line(exc.format_message())}", file=sys.stderr)
        return int(ExitStatus.BAD_CONFIG)
    except click_errors.ClickException as exc:
        print(f"harness: error: {_one_line(exc.format_message())}", file=sys.stderr)
        return int(ExitStatus.BAD_CONFIG)
    except (KeyboardInterrupt, typer.Abort):
        print("harness: interrupted", file=sys.stderr)
        return int(ExitStatus.INTERRUPTED)
    except HarnessError as exc:
        if debug:
            traceback.print_exc()
        print(f"harness: error: {_one_line(str(exc))}", file=sys.stderr)
        return int(exc.exit_status)
    except OSError as exc:
        if debug:
            traceback.print_exc()
        if exc.filename is not None and exc.errno in _PATH_ERRNOS:
            # a path the user gave that cannot be used: bad usage, named
            print(f"harness: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
            return int(ExitStatus.BAD_CONFIG)
        print(f"harness: error: {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
        return int(ExitStatus.STACK_FAILED)
    except Exception as exc:  # the last line of defence: one line, unless --debug
        if debug:
            traceback.print_exc()
        print(
            f"harness: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return int(ExitStatus.STACK_FAILED)
    finally:
        signal.signal(signal.SIGTERM, previous)
