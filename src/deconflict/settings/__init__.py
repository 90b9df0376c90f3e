"""Every setting of Deconflict declared once, as data (name, type, default, env var, help).

The configurations are pydantic-settings models (:class:`Declared`): the shared service's and its
feeds' (:class:`Settings`, env ``DECONFLICT_*``), the live engine's
(``deconflict.engine.engine.EngineConfig``, ``DECONFLICT_ENGINE_*``) and the tracker's
(``deconflict.tracking.config.TrackerConfig``, ``DECONFLICT_TRACKER_*``). Each field carries its
help in its description; :func:`settings_rows` reads them back, ``docs/settings.md`` is generated
from them by :func:`render_markdown` (a test keeps the two in step), and ``from_env`` reads the
environment (or a given mapping) then explicit overrides. Lengths are metres and times seconds,
as everywhere inside Deconflict.

The modules: ``declared`` (the machinery: :func:`setting`, :func:`same_as`, :class:`Declared`),
``service`` (:class:`Settings` and :func:`picture_outputs`) and ``reference`` (docs/settings.md:
:func:`configurations`, :func:`settings_rows`, :func:`render_markdown`); ``python -m
deconflict.settings`` prints the page.
"""

from __future__ import annotations

from deconflict.settings.declared import Declared, same_as, setting
from deconflict.settings.reference import configurations, render_markdown, settings_rows
from deconflict.settings.service import Settings, picture_outputs

__all__ = [
    "Declared",
    "Settings",
    "configurations",
    "picture_outputs",
    "render_markdown",
    "same_as",
    "setting",
    "settings_rows",
]
