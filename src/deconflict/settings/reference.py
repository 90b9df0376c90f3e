"""The reference of every configuration: docs/settings.md, generated from the declarations.

:func:`configurations` names the configurations the page lists (each imported only when asked, so
this room never imports the engine or the tracker at import time), :func:`settings_rows` reads
each field's name, environment variable, type, default and help back, and :func:`render_markdown`
writes the page (``python -m deconflict.settings > docs/settings.md``; a test keeps the two in
step).
"""

from __future__ import annotations

import importlib

from deconflict.settings.declared import Declared, _choices
from deconflict.settings.service import Settings

#: the configurations docs/settings.md lists, in its order: (title, "module:class")
CONFIGURATIONS = (
    ("The shared service and its feeds", "deconflict.settings:Settings"),
    ("The live engine", "deconflict.engine.engine:EngineConfig"),
    ("The tracker", "deconflict.tracking.config:TrackerConfig"),
)


def configurations() -> list[tuple[str, type[Declared]]]:
    """(title, class) of every configuration, in docs/settings.md's order."""
    out = []
    for title, where in CONFIGURATIONS:
        module, _, name = where.partition(":")
        out.append((title, getattr(importlib.import_module(module), name)))
    return out


def settings_rows(cls: type[Declared] = Settings) -> list[dict[str, str]]:
    """One row per setting of ``cls``: name, env, type, default, help (choices in the help)."""
    rows = []
    for name, f in cls.model_fields.items():
        kind = getattr(f.annotation, "__name__", None) or str(f.annotation)
        help_text = f.description or ""
        if _choices(f):
            help_text += " One of: " + ", ".join(f"`{c}`" for c in _choices(f)) + "."
        rows.append(
            {
                "name": name,
                "env": cls.env_name(name),
                "type": kind.replace(" | None", " or None"),
                "default": repr(f.default),
                "help": help_text,
            }
        )
    return rows


def render_markdown() -> str:
    """The text of docs/settings.md."""
    lines = [
        "# Settings",
        "",
        "Every configuration of Deconflict, declared once with pydantic-settings in the class",
        "named under each title. Each setting is read from its environment variable; options of",
        "the command line and arguments given in code override it. Generated from",
        "`deconflict.settings` by `python -m deconflict.settings > docs/settings.md`.",
    ]
    for title, cls in configurations():
        lines += [
            "",
            f"## {title}",
            "",
            f"`{cls.__module__}.{cls.__qualname__}`: {(cls.__doc__ or '').splitlines()[0]}",
            "",
            "| setting | environment variable | type | default | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for row in settings_rows(cls):
            lines.append(
                f"| `{row['name']}` | `{row['env']}` | {row['type']} | `{row['default']}` "
                f"| {row['help']} |"
            )
    return "\n".join(lines) + "\n"
