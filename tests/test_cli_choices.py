"""``--format`` and the other fixed choices of the command line: checked by the parser (exit 2),
listed in ``--help`` and completed by the shell, and the same as the library's own lists."""

from __future__ import annotations

import re
from typing import get_args

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.cli._app import Engine, FeedFormat, LogLevel, PairSearch, TrackFormat


def completions(*words: str, incomplete: str = "") -> list[str]:
    """What zsh completes after ``deconflict WORDS INCOMPLETE``: the protocol the script of
    ``deconflict --install-completion`` speaks to the program."""
    line = " ".join(("deconflict", *words, incomplete))
    env = {"_DECONFLICT_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}
    result = CliRunner().invoke(app, [], prog_name="deconflict", env=env)
    assert result.exit_code == 0, result.output
    return re.findall(r'"([^"\n]+)"', result.output)


def test_feed_formats_are_the_registered_decoders() -> None:
    from deconflict.surveillance.base import ALIASES, DECODERS

    assert set(get_args(FeedFormat)) == set(DECODERS) | set(ALIASES)
    assert set(get_args(TrackFormat)) == {"reports", *get_args(FeedFormat)}


def test_pair_search_is_the_kernels_list() -> None:
    from deconflict.predict.prune import METHODS

    assert get_args(PairSearch) == METHODS


@pytest.mark.parametrize(
    ("words", "incomplete", "expected"),
    [
        (("detect", "x.csv", "--format"), "", ["json", "table"]),
        (("detect", "x.csv", "--pair-search"), "", list(get_args(PairSearch))),
        (("decode", "x.bin", "--format"), "mo", ["modes-hex", "modes-table", "modes"]),
        (("feed", "tcp://h:30005", "-f"), "b", ["beast", "basestation"]),
        (("track", "x.csv", "--format"), "re", ["reports"]),
        (("serve", "--log-level"), "", list(get_args(LogLevel))),
        (("analyze", "x.parquet", "--engine"), "", list(get_args(Engine))),
        (("montecarlo", "shared2015", "--engine"), "l", ["local"]),
    ],
)
def test_choices_complete(words: tuple[str, ...], incomplete: str, expected: list[str]) -> None:
    assert completions(*words, incomplete=incomplete) == expected


def test_standard_names_complete() -> None:
    from deconflict.predict.standards import standard_names

    assert completions("detect", "x.csv", "--standard") == standard_names()
    assert completions("analyze", "x.parquet", "--standard", incomplete="icao") == [
        "icao-3nm",
        "icao-5nm",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["detect", "x.csv", "--format", "yaml"],
        ["detect", "x.csv", "--pair-search", "brute"],
        ["decode", "x.bin", "--format", "morse"],
        ["track", "x.csv", "--format", "morse"],
        ["serve", "--log-level", "loud"],
        ["analyze", "x.parquet", "--out", "o", "--engine", "spark"],
    ],
)
def test_a_value_not_among_the_choices_is_a_usage_error(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    bad = args[-1]
    assert bad in result.output and "is not one of" in result.output
