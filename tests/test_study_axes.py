"""The study's axes beyond sizes: init schemes, replicates of fixed structures, prune times, the
search at two budgets, and the pre-registered claims (spec validation and the plan)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.test_compare import write_study
from wann.errors import ConfigError
from wann.study.plan import plan, variant_label
from wann.study.spec import load_study

ROOT = Path(__file__).resolve().parents[1]

AXES = """inits = ["he", "uniform2"]
replicates = 3
prune_times = [0.25, 1.0]
half_search = true
landscapes = "base"
"""
METHODS = (
    '["wann_best_shared", "wann_retrained", "dense", "pruned_magnitude", "lottery_ticket", "ticket_random_init", '
    '"random_sparse", "snip", "pruned_at", "pruned_at_rewind"]'
)
CLAIMS = """
[[claims]]
id = "late-beats-early"
text = "Pruning late beats pruning early"
test = "greater"
a = "pruned_at/1x@1"
b = "pruned_at/1x@0.25"

[[claims]]
id = "structure-variance"
text = "Structure explains more variance than initialisation"
test = "variance"
a = "wann_retrained/-"
"""


def axes_study(tmp_path: Path, claims: str = CLAIMS, landscape: int = 0, **replace) -> Path:
    p = write_study(
        tmp_path, methods=METHODS, landscape=landscape, **{"sizes = [1.0]": "sizes = [1.0]\n" + AXES, **replace}
    )
    p.write_text(p.read_text() + claims)
    return p


def test_variant_labels():
    assert variant_label("1x") == "1x"
    assert variant_label("1x", "uniform2") == "1x+uniform2"
    assert variant_label("-", rep=2) == "-+r2"
    assert variant_label("1x", at=0.25) == "1x@0.25"
    assert variant_label("1x", at=1.0) == "1x@1"


def test_plan_of_the_axes(tmp_path):
    study = load_study(axes_study(tmp_path))
    assert study.inits == ["he", "uniform2"] and study.replicates == 3 and study.prune_times == [0.25, 1.0]
    assert [c["id"] for c in study.claims] == ["late-beats-early", "structure-variance"]
    cells = {c.id: c for c in plan(study)}
    ids = set(cells)
    cp = "cartpole/{}/s0"
    # the lineage at the other scheme, at 1x: RL parents are their own cells at the same scheme
    p = cells[cp.format("pruned_magnitude/1x+uniform2")]
    assert p.init == "uniform2" and cp.format("dense/4+uniform2") in p.deps
    t = cells[cp.format("ticket_random_init/1x+uniform2")]
    assert cp.format("lottery_ticket/1x+uniform2") in t.deps and t.parent == cp.format("lottery_ticket/1x+uniform2")
    # replicates re-draw the init of the seed's own structure: their ancestors are the base cells
    r = cells[cp.format("ticket_random_init/1x+r2")]
    assert r.rep == 2 and r.init == "" and cp.format("lottery_ticket/1x") in r.deps
    assert {cp.format(f"wann_retrained/-+r{k}") for k in (1, 2)} <= ids
    assert cp.format("wann_retrained/-+r3") not in ids  # replicates = 3: reps 0, 1, 2
    assert cp.format("pruned_magnitude/1x+r1") not in ids  # a pruned net is not a fixed structure
    assert cp.format("snip/1x+r1") not in ids  # SNIP's mask depends on its init
    # prune times: timed methods only at their times, with the base dense parent
    for at in (0.25, 1.0):
        c = cells[cp.format(f"pruned_at_rewind/1x@{at:g}")]
        assert c.at == at and c.parent == cp.format("dense/4") and c.deps[-1] == cp.format("dense/4")
    assert not any(c.kind.startswith("pruned_at") and math.isnan(c.at) for c in cells.values())
    # the search at two budgets; a fixed champion (wine) has no half-budget assessment
    assert cells[cp.format("wann/half")].half and cp.format("search/-") in cells[cp.format("wann/half")].deps
    assert "wine/wann/half/s0" not in ids
    # classification parents are retrained inside the cell: no dependency
    assert cells["wine/pruned_magnitude/1x+uniform2/s0"].deps == []
    # seed by seed
    order = [c.seed for c in plan(study)]
    assert order == sorted(order)


def test_base_plan_of_the_small_study_is_unchanged():
    """The axes add cells; they never rename the base grid: every committed cell of the small
    study is planned under its id (and nothing else of the old methods is)."""
    study = load_study(ROOT / "experiments/study-small.toml")
    new = {"snip", "pruned_at", "pruned_at_rewind"}
    planned = {c.id for c in plan(study) if c.kind not in new}
    committed = {
        json.loads(f.read_text())["cell"] for f in (ROOT / "experiments/results/study-small/cells").glob("*.json")
    }
    assert planned == committed


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({'inits = ["he", "uniform2"]': 'inits = ["he", "unifrom2"]'}, "study.inits", "did you mean 'uniform2'"),
        ({'inits = ["he", "uniform2"]': "inits = []"}, "study.inits", "list of init scheme"),
        ({'inits = ["he", "uniform2"]': 'inits = ["he", "he"]'}, "study.inits", "repeated"),
        ({"replicates = 3": "replicates = 0"}, "study.replicates", "in [1, 100]"),
        ({"prune_times = [0.25, 1.0]": "prune_times = [0.0, 1.0]"}, "study.prune_times", "(0, 1]"),
        ({"prune_times = [0.25, 1.0]": "prune_times = [1.5]"}, "study.prune_times", "(0, 1]"),
        ({"half_search = true": 'half_search = "yes"'}, "study.half_search", "true or false"),
        ({'landscapes = "base"': 'landscapes = "some"'}, "study.landscapes", "'all' or 'base'"),
        ({'a = "pruned_at/1x@1"': 'a = "pruned_att/1x@1"'}, "claims[0].a", "did you mean 'pruned_at'"),
        ({'a = "pruned_at/1x@1"': 'a = "pruned_at"'}, "claims[0].a", "method/variant"),
        ({'test = "greater"': 'test = "better"'}, "claims[0].test", "greater, equivalent, variance"),
        ({'id = "late-beats-early"': 'id = "structure-variance"'}, "claims[1].id", "used by two claims"),
        ({'id = "late-beats-early"': 'id = "Late Beats"'}, "claims[0].id", "lower-case"),
        ({'text = "Pruning late beats pruning early"': 'text = ""'}, "claims[0].text", "written before the run"),
        ({'a = "wann_retrained/-"': 'a = "wann_retrained/-"\nb = "dense/4"'}, "claims[1].b", "one arm"),
    ],
)
def test_bad_axes_and_claims_are_refused_naming_the_field(tmp_path, change, field, words):
    claims = CLAIMS
    for a, b in change.items():
        claims = claims.replace(a, b)
    p = axes_study(tmp_path, claims=claims)
    p.write_text(p.read_text().replace(AXES, AXES_CHANGED(change)))
    with pytest.raises(ConfigError) as e:
        load_study(p)
    assert e.value.field == field, e.value
    assert words in e.value.message, e.value.message


def AXES_CHANGED(change):  # noqa: N802  (the axes block with the change applied)
    text = AXES
    for a, b in change.items():
        text = text.replace(a, b)
    return text


def test_a_non_default_base_scheme_changes_the_identity(tmp_path):
    a = load_study(axes_study(tmp_path))
    p = axes_study(tmp_path)
    p.write_text(p.read_text().replace('inits = ["he", "uniform2"]', 'inits = ["default", "uniform2"]'))
    b = load_study(p)
    p.write_text(p.read_text().replace('inits = ["default", "uniform2"]', 'inits = ["default"]'))
    c = load_study(p)
    assert a.identity() != b.identity()
    assert b.identity() == c.identity()  # extra schemes add cells; they change no finished one


CARTPOLE_TASK = """[[tasks]]
label = "cartpole"
search = "cp.toml"
budget = 512
dense = [[4]]
"""


@pytest.fixture(scope="module")
def axes_run(tmp_path_factory):
    """A real serial study with every axis: cartpole (a 3-generation search per seed, RL
    counterparts at 512 episodes) and wine (a fixed champion, 4 epochs), 2 seeds."""
    from wann.study.scheduler import run_study

    folder = tmp_path_factory.mktemp("axes")
    p = axes_study(folder, landscape=1, **{"budget = 512": "budget = 96", "test_episodes = 5": "test_episodes = 3"})
    run_study(load_study(p), progress=False)
    return folder / "run"


def test_axes_study_table(axes_run):
    from wann.study.results import read_table

    t = read_table(axes_run)
    rows = [dict(zip(t, vals)) for vals in zip(*t.values())]
    final = [r for r in rows if r["final"]]
    by = {(r["task"], r["method"], r["variant"], int(r["seed"])): r for r in final}
    for task in ("cartpole", "wine"):
        for s in (0, 1):
            assert by[(task, "pruned_magnitude", "1x+uniform2", s)]["init"] == "uniform2"
            assert by[(task, "pruned_magnitude", "1x", s)]["init"] == "he"
            assert by[(task, "random_sparse", "1x+r2", s)]["rep"] == 2
            for at in (0.25, 1.0):
                r = by[(task, "pruned_at", f"1x@{at:g}", s)]
                # (wine's 8-unit parent has 139 connections, fewer than its 172-connection champion)
                assert r["prune_at"] == at and r["connections"] == min(
                    r["target_connections"], 139 if task == "wine" else 10**9
                )
            # the parent's cost is charged at the prune time: a quarter of it at 0.25
            early, late = by[(task, "pruned_at", "1x@0.25", s)], by[(task, "pruned_at", "1x@1", s)]
            assert early["parent_episodes"] == pytest.approx(0.25 * late["parent_episodes"], rel=0.01, abs=1)
            snip = by[(task, "snip", "1x", s)]
            assert snip["connections"] == min(snip["target_connections"], 139 if task == "wine" else 10**9)
    # the search at two budgets: the half-budget champion costs about half the search
    half = by[("cartpole", "wann_best_shared", "half", 0)]
    full = by[("cartpole", "wann_best_shared", "-", 0)]
    assert 0 < half["search_episodes"] < full["search_episodes"]
    # replicates of a fixed structure share its mask and differ in their initial weights
    docs = {json.loads(f.read_text())["cell"]: json.loads(f.read_text()) for f in (axes_run / "cells").glob("*.json")}
    nets = [docs[f"wine/random_sparse/{v}/s0"]["networks"]["random_sparse"] for v in ("1x", "1x+r1")]
    assert [c["enabled"] for c in nets[0]["genome"]["connections"]] == [
        c["enabled"] for c in nets[1]["genome"]["connections"]
    ]
    assert nets[0]["weights"] != nets[1]["weights"]
    # landscapes = "base": only base cells at 1x / unsized / the first dense width measure them
    assert docs["wine/pruned_magnitude/1x+uniform2/s0"]["landscape"]["pruned_magnitude"] is None
    assert docs["wine/pruned_magnitude/1x/s0"]["landscape"]["pruned_magnitude"] is not None


def test_a_slice_is_the_same_study_on_fewer_tasks_and_seeds(tmp_path):
    study = load_study(axes_study(tmp_path))
    part = study.slice(["wine"], [1])
    assert part.identity() == study.identity()  # its cells are the whole study's
    assert {c.id for c in plan(part)} == {c.id for c in plan(study) if c.task == "wine" and c.seed == 1}
    assert study.slice().identity() == study.identity() and len(plan(study.slice())) == len(plan(study))
    with pytest.raises(ConfigError) as e:
        study.slice(["wines"])
    assert e.value.field == "slice.tasks" and "cartpole, wine" in e.value.message
    with pytest.raises(ConfigError) as e:
        study.slice(None, [7])
    assert e.value.field == "slice.seeds"


def test_compare_slice_flags_are_checked_before_any_work(tmp_path, capsys):
    from wann.cli import main

    p = axes_study(tmp_path)
    assert main(["compare", str(p), "--tasks", "wines", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--tasks" in err and "cartpole, wine" in err and len(err.strip().splitlines()) == 1
    assert main(["compare", str(p), "--seeds", "9", "--quiet"]) == 2
    assert "--seeds" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["compare", str(p), "--seeds", "0,x", "--quiet"])
    assert e.value.code == 2 and "expected comma-separated seeds such as 0,1,2" in capsys.readouterr().err
    assert main(["compare", str(p), "--seeds", "0", "--tasks", "wines", "--quiet"]) == 2  # seed 0 parses
    err = capsys.readouterr().err
    assert "--tasks" in err and "widths" not in err
    assert not (tmp_path / "run").exists()  # nothing written
