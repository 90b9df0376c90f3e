"""Scenario files: the built-in one loads and says what it claims; bad files say what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deconflict.errors import InputError
from deconflict.sim.scenario import builtin_scenario_path, load_scenario, parse_scenario


def test_builtin_scenario_has_the_2015_cast() -> None:
    sc = load_scenario()
    assert {p.id for p in sc.parties} == {"blue", "red", "civil"}
    by_id = {a.id: a for a in sc.aircraft}
    # one aircraft with no transponder identity
    assert [a.id for a in sc.aircraft if a.transponder == "none"] == ["REAPER01"]
    # sorties from bases: a route that starts or ends at a declared base of its own party
    bases = {b.id: b for b in sc.bases}
    for a in sc.aircraft:
        for w in (a.route[0], a.route[-1]):
            if w.base is not None:
                assert bases[w.base].party == a.party
    assert by_id["VIPER12"].route[0].base == "northfield"
    assert any(a.party == "civil" and a.adsb for a in sc.aircraft)
    assert {ar.kind for ar in sc.areas} == {"shared", "restricted"}
    assert sc.start.tzname() == "UTC"


def test_builtin_file_is_copyable(tmp_path: Path) -> None:
    text = builtin_scenario_path().read_text()
    changed = tmp_path / "mine.toml"
    changed.write_text(text.replace("seed = 2015", "seed = 7"))
    assert load_scenario(changed).seed == 7


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('kind = "radar"', 'kind = "sonar"'), "use one of link, adsb, ssr, radar"),
        (('party = "red"\ntype = "SU24"', 'party = "green"\ntype = "SU24"'), "'green'"),
        (
            ('{ base = "coastal" },\n]\n\n# Civil', '{ base = "nowhere" },\n]\n\n# Civil'),
            "names base 'nowhere'",
        ),
        (('start = "2015-10-10T06:00:00Z"', 'start = "yesterday"'), "ISO 8601"),
    ],
)
def test_bad_scenarios_say_what_is_wrong(edit: tuple[str, str], message: str) -> None:
    text = builtin_scenario_path().read_text()
    assert edit[0] in text
    with pytest.raises(InputError, match=re.escape(message)):
        parse_scenario(text.replace(edit[0], edit[1], 1))


def test_not_toml() -> None:
    with pytest.raises(InputError, match="not valid TOML"):
        parse_scenario("[scenario\nname=1")
    with pytest.raises(InputError, match="cannot read scenario"):
        load_scenario("/nonexistent/scenario.toml")
