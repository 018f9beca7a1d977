"""The README's "Python API" section: every code block runs, in order, in one namespace, in an
empty folder (with the wine champion the study block names)."""

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def api_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_python_api_blocks_run(tmp_path, monkeypatch, capsys):
    blocks = api_blocks()
    assert len(blocks) >= 5
    champ = tmp_path / "experiments/results/wine"
    champ.mkdir(parents=True)
    shutil.copy(ROOT / "experiments/results/wine/champion.json", champ)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "connections, fitness" in out and "new best" in out
    assert (tmp_path / "runs/api/champion.json").exists()
    assert (tmp_path / "tiny-results/report/report.md").exists()


def test_public_api_is_small_documented_and_lazy():
    import subprocess
    import sys

    import wann

    for name in wann.__all__:
        if name != "__version__":
            obj = getattr(wann, name)
            assert obj.__doc__ or isinstance(obj, dict), name
    code = "import sys, wann; print('ray' in sys.modules, 'torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == [
        "False",
        "False",
    ]
