"""``python -m deconflict.settings > docs/settings.md``: print the settings reference."""

from deconflict.settings.reference import render_markdown

print(render_markdown(), end="")
