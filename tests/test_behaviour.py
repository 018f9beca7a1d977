"""Behaviour unchanged: a short search on two tasks and a tiny study give exactly the recorded
numbers (`tests/fixtures/behaviour.json`, made by `python tests/behaviour.py --write`).

History: recorded on f8c6293 and reproduced exactly by the library's reshaping into layers
(issue 12); re-recorded once with the fair counterparts (issue 13: live edges, exact budgets,
iterative pruning, tickets with controls, Adam for every trained classification method), which
change the counterpart cells by design. Re-record only with a change that is meant to change
results, and say so in its commit."""

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
