"""The README's settings reference is what `wann.study.settings_doc` makes from the settings'
own definitions: it never drifts, and no key the code accepts goes without a row and words."""

import re
from pathlib import Path

import pytest

from wann.errors import ConfigError
from wann.study import settings_doc as sd

ROOT = Path(__file__).resolve().parents[1]
FIX = "run `python -m wann.study.settings_doc --write`"


@pytest.fixture(scope="module")
def rows():
    return {"experiment": sd.experiment_rows(), "study": sd.study_rows()}


def test_the_readme_block_is_the_generated_one():
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Settings reference", 1)[1].split("\n## ", 1)[0]
    assert sd.BEGIN in section and sd.END in section, "the block belongs in the README's Settings reference"
    assert sd.readme_block(text) == sd.render(), f"README.md's settings reference is out of date: {FIX}"


def test_every_key_the_code_accepts_has_a_row_with_words(rows):
    all_rows = rows["experiment"] + rows["study"]
    assert sd.missing(all_rows) == [], f"give these keys their words in wann/study/settings_meanings.py, then {FIX}"
    for kind in rows:
        paths = [r.path for r in rows[kind]]
        assert len(paths) == len(set(paths)), kind
    # the experiment's tables are Experiment's fields, and experiment_from_dict accepts exactly those
    top, sections = sd.experiment_tables()
    assert sd.experiment_top_keys() == set(top) | set(sections) | {"task"}
    exp = {r.path for r in rows["experiment"]}
    assert {f"task.{k}" for k in sd.task_option_keys()} <= exp
    assert set(sd.EXPERIMENT) | set(sd.TASK) <= exp and set(sd.STUDY) <= {r.path for r in rows["study"]}
    assert sd.unused() == []


def test_a_new_dataclass_field_gets_a_row_without_words(monkeypatch):
    """A field added to a table's dataclass is picked up by itself, and reported until it has words."""
    import dataclasses

    from wann.search import experiment

    Wider = dataclasses.make_dataclass(
        "Wider", [("brand_new", int, dataclasses.field(default=7))], bases=(experiment.ExecutionSettings,), frozen=True
    )
    Wider.__module__ = experiment.ExecutionSettings.__module__
    monkeypatch.setattr(
        experiment,
        "Experiment",
        dataclasses.make_dataclass(
            "Experiment",
            [("execution", Wider, dataclasses.field(default=Wider()))],
            bases=(experiment.Experiment,),
            frozen=True,
        ),
    )
    new = [r for r in sd.experiment_rows() if r.path == "execution.brand_new"]
    assert len(new) == 1 and new[0].type == "integer" and new[0].default == "`7`"
    assert "execution.brand_new (meaning)" in sd.missing(new)


def test_numbers_have_bounds(rows):
    for r in rows["experiment"] + rows["study"]:
        if r.type in ("integer", "number"):
            assert r.bound, r.path


def _number(s: str) -> int:
    s = s.strip().strip("`").replace(",", "")
    if "^" in s:
        base, k = s.split("^")
        return int(base) ** int(k)
    return int(s)


def _int_bounds(row):
    """(lo, hi, hi_included) of an integer row whose bound is a plain interval, else None."""
    bound = row.bound.split(";")[0]  # a note may follow
    m = re.fullmatch(r"\[(\d+), ([\d^,]+)([\])])", bound)
    if m:
        return int(m.group(1)), _number(m.group(2)), m.group(3) == "]"
    m = re.fullmatch(r">= (\d+)", bound)
    return (int(m.group(1)), None, True) if m else None


def _refused(load, path: str, value) -> bool:
    try:
        load(path, value)
    except ConfigError as e:
        assert re.sub(r"\[\d+\]", "", e.field) == path, (path, value, e.field, e.message)
        return True
    return False


def test_written_integer_bounds_are_the_codes(rows):
    """The bounds written down by hand (not read from a check) are those the loaders enforce."""
    from wann.search.experiment import experiment_from_dict
    from wann.study.spec import study_from_dict

    def load_experiment(path, value):
        doc = {"task": {"name": "CartPole-v1"}, "search": {"population": 8, "generations": 1}}
        table, _, key = path.rpartition(".")
        (doc.setdefault(table, {}) if table else doc)[key] = value
        if table == "islands":  # islands of 16 genomes: only the key under test can be wrong
            doc["search"]["population"] = 64
        experiment_from_dict(doc)

    def load_study(path, value):
        table, key = path.split(".")
        task = {"champion": "experiments/results/wine/champion.json", "budget": 1}
        doc = {"study": {"name": "bounds", "seeds": [0]}, "tasks": [task]}
        (task if table == "tasks" else doc.setdefault(table, {}))[key] = value
        study_from_dict(doc, ROOT)

    checked = 0
    for kind, load in (("experiment", load_experiment), ("study", load_study)):
        for r in rows[kind]:
            b = _int_bounds(r) if r.type == "integer" and not r.path.startswith(("limits.", "task.")) else None
            if b is None:
                continue
            lo, hi, hi_in = b
            assert not _refused(load, r.path, lo), (r.path, lo)
            assert _refused(load, r.path, lo - 1), (r.path, lo - 1)
            if hi is not None:
                assert _refused(load, r.path, hi + 1 if hi_in else hi), (r.path, hi)
            checked += 1
    assert checked >= 8  # seed, workers (both files), islands, test/landscape episodes, replicates, budget, epochs


def test_write_restores_a_damaged_block_and_check_notices(tmp_path, capsys):
    text = (ROOT / "README.md").read_text()
    readme = tmp_path / "README.md"
    readme.write_text(text.replace(sd.readme_block(text), f"{sd.BEGIN}\nstale\n{sd.END}"))
    assert sd.main(["--check", "--readme", str(readme)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert sd.main(["--write", "--readme", str(readme)]) == 0
    assert sd.readme_block(readme.read_text()) == sd.render()
    assert readme.read_text().replace(sd.render(), "") == text.replace(sd.readme_block(text), "")
    assert sd.main(["--check", "--readme", str(readme)]) == 0
