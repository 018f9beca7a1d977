"""Behaviour unchanged: a short search on two tasks and a tiny study give exactly the numbers
recorded from main before the library was reshaped (`tests/fixtures/behaviour.json`, made by
`python tests/behaviour.py --write` on commit f8c6293)."""

import json

import behaviour


def test_search_and_study_results_are_unchanged():
    want = json.loads(behaviour.FIXTURE.read_text())
    got = behaviour.record()
    for name in want["searches"]:
        assert got["searches"][name]["state"] == want["searches"][name]["state"], name
        assert got["searches"][name]["champion"] == want["searches"][name]["champion"], name
        assert got["searches"][name]["metrics"] == want["searches"][name]["metrics"], name
    assert sorted(got["study"]) == sorted(want["study"])
    for cell in want["study"]:
        assert got["study"][cell] == want["study"][cell], cell
