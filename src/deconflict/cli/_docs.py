"""Render the command reference (docs/cli.md) from the CLI's own ``--help`` output.

``python -m deconflict.cli._docs > docs/cli.md`` regenerates it; tests/test_cli_docs.py fails
when the file and the help have drifted apart.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from deconflict.cli import app

WIDTH = 100


def _help(path: list[str]) -> str:
    result = CliRunner().invoke(
        app, [*path, "--help"], env={"COLUMNS": str(WIDTH), "TERM": "dumb", "NO_COLOR": "1"}
    )
    lines = [line.rstrip() for line in result.output.splitlines()]
    return "\n".join(lines).strip("\n")


def _subcommands(cmd: Any, ctx: Any) -> list[str]:
    lister = getattr(cmd, "list_commands", None)
    if lister is None:
        return []
    return sorted(name for name in lister(ctx) if not cmd.get_command(ctx, name).hidden)


def render() -> str:
    """The whole command reference as Markdown."""
    root = typer.main.get_command(app)
    out = [
        "# Command reference",
        "",
        "Generated from `deconflict --help` by `python -m deconflict.cli._docs > docs/cli.md`;",
        "tests/test_cli_docs.py keeps it in step with the code.",
        "",
        "```text",
        _help([]),
        "```",
    ]

    def walk(cmd: Any, ctx: Any, path: list[str]) -> None:
        for name in _subcommands(cmd, ctx):
            sub = cmd.get_command(ctx, name)
            out.extend(["", f"## `deconflict {' '.join([*path, name])}`", "", "```text"])
            out.extend([_help([*path, name]), "```"])
            walk(sub, type(ctx)(sub, info_name=name, parent=ctx), [*path, name])

    walk(root, type_ctx(root), [])
    return "\n".join(out) + "\n"


def type_ctx(root: Any) -> Any:
    """A context of the click flavour typer uses (it may vendor its own click)."""
    return root.context_class(root, info_name="deconflict")


if __name__ == "__main__":
    print(render(), end="")
