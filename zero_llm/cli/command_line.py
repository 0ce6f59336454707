"""What a ``zero-llm`` command line names, read before anything is imported (pure).

In: the arguments after ``zero-llm``. Out: the global flags moved before the command
(``hoist_global_flags``), the command named (``command_named``) and whether it is a brief
one (``is_brief``): one that does no model I/O and ends in a moment.
"""

from __future__ import annotations

__all__ = ["BRIEF", "GLOBAL_FLAGS", "command_named", "hoist_global_flags", "is_brief"]

GLOBAL_FLAGS = ("-v", "--verbose", "--no-color", "--version")
"""Options of the whole command, accepted after the subcommand too."""

BRIEF = frozenset({"route", "config", "sessions", "logs", "usage"})
"""The commands that do no model I/O and end in a moment."""


def hoist_global_flags(args: list[str]) -> list[str]:
    """``args`` with the global flags moved before the subcommand (none after ``--``)."""
    cut = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:cut] if a in GLOBAL_FLAGS]
    rest = [a for a in args[:cut] if a not in GLOBAL_FLAGS]
    return [*dict.fromkeys(flags), *rest, *args[cut:]]


def command_named(args: list[str]) -> str | None:
    """The command ``args`` name (the first word that is not a global flag), or None."""
    rest = [a for a in args if a not in GLOBAL_FLAGS]
    return rest[0] if rest else None


def is_brief(args: list[str]) -> bool:
    """Whether ``args`` run a ``BRIEF`` command, or only the app's help or version."""
    named = command_named(args)
    return named in BRIEF or named in (None, "--help")
