"""The machinery every configuration of Deconflict is declared with (pydantic-settings).

:func:`setting` declares a field (default, help, choices), :func:`same_as` a field that is
another configuration's setting (one environment variable for both), and :class:`Declared` is the
base of every configuration: frozen, unknown names refused, each field's environment variable its
class's ``env_prefix`` and its name in capitals, choices checked, every bad value a
:class:`~deconflict.errors.ConfigError` naming the setting, its variable and what to give.
``from_env`` reads the environment (or a given mapping, through :class:`_Environment`) then
explicit overrides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Self

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from deconflict.errors import ConfigError


def setting(default: Any, help: str, choices: tuple[str, ...] = ()) -> Any:
    """A field of a configuration: its default, its help (docs/settings.md) and its choices."""
    return Field(default=default, description=help, json_schema_extra={"choices": list(choices)})


def same_as(owner: type[Declared], name: str, field_name: str | None = None) -> Any:
    """A field of another configuration that is ``owner``'s setting ``name``: the same default,
    choices and environment variable, declared there once."""
    f = owner.model_fields[name]
    return Field(
        default=f.default,
        description=f"As `{owner.__name__}.{name}` (one variable for both).",
        json_schema_extra={"choices": list(_choices(f))},
        validation_alias=AliasChoices(field_name or name, owner.env_name(name)),
    )


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


class Declared(BaseSettings):
    """Base of every configuration: frozen, unknown names refused, each field's environment
    variable its class's ``env_prefix`` and its name in capitals, choices checked, and every bad
    value a :class:`ConfigError` naming the setting, its variable and what to give."""

    model_config = SettingsConfigDict(
        env_prefix="DECONFLICT_", frozen=True, extra="forbid", env_ignore_empty=True
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _config_error(type(self), exc) from None

    @classmethod
    def env_name(cls, name: str) -> str:
        """The environment variable of setting ``name``."""
        alias = cls.model_fields[name].validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[-1])
        return f"{cls.model_config.get('env_prefix', '')}{name}".upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """The settings from the environment (``os.environ`` or ``environ``), then
        ``overrides`` (those not None); defaults for the rest."""
        values = _Environment(cls, os.environ if environ is None else environ)()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.validated(values)

    @classmethod
    def validated(cls, values: Mapping[str, Any]) -> Self:
        """The settings from exactly ``values`` (no environment), checked."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            raise _config_error(cls, exc) from None

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``, checked as new settings are."""
        return self.validated({**self.model_dump(), **changes})

    @model_validator(mode="after")
    def _check_choices(self) -> Self:
        for name, f in type(self).model_fields.items():
            choices = _choices(f)
            value = getattr(self, name)
            if choices and value not in choices:
                raise ConfigError(
                    f"setting {name} ({type(self).env_name(name)}) is {value!r}; "
                    f"choose one of {', '.join(choices)}"
                )
        return self


def _choices(f: Any) -> tuple[str, ...]:
    extra = f.json_schema_extra
    return tuple(extra.get("choices", ())) if isinstance(extra, dict) else ()


def _config_error(cls: type[Declared], exc: ValidationError) -> ConfigError:
    parts = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        if name in cls.model_fields:
            kind = getattr(cls.model_fields[name].annotation, "__name__", "value")
            parts.append(
                f"setting {name} ({cls.env_name(name)}) is {err.get('input')!r}: "
                f"{err['msg'].lower()}; give a value of type {kind}"
            )
        else:
            parts.append(
                f"{name!r} is not a setting of {cls.__name__}: {err['msg'].lower()}; see "
                "docs/settings.md for the names"
            )
    return ConfigError("; ".join(parts))
