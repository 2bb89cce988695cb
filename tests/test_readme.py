"""Every code block of README.md runs, in order, in a fresh folder (with the demo mesh built first).

`make` lines run as `make -n` (a dry run: the real thing would set up a virtualenv or run this very suite).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import meshlake as ml
from meshlake.catalog.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer((ROOT / "README.md").read_text())]


def test_readme_starts_with_exactly_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.startswith("# meshlake\n\n```bash\nmake demo\nmake test\n```\n")


def run_bash(code: str, cwd: Path, env: dict[str, str]) -> Path:
    for raw in code.splitlines():
        line = raw.split("  #")[0].strip()
        if not line:
            continue
        words = shlex.split(line)
        assigned = {}
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):  # `NAME=value command`: its environment
            name, _, value = words.pop(0).partition("=")
            assigned[name] = value
        if words[0] == "cd":
            cwd = (cwd / words[1]).resolve()
            continue
        if words[0] == "make":
            words = ["make", "-n", *words[1:]]
            done = subprocess.run(words, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
        else:
            done = subprocess.run(words, cwd=cwd, capture_output=True, text=True, env=env | assigned, check=False)
        assert done.returncode == 0, f"`{line}` failed:\n{done.stdout}\n{done.stderr}"
    return cwd


@pytest.mark.slow
def test_every_readme_code_block_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHLAKE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    from meshlake.demo import build

    build(tmp_path / "meshlake-demo", days=5)
    cwd = tmp_path
    ran = {"bash": 0, "python": 0, "sql": 0, "yaml": 0}
    for language, code in blocks():
        if language == "bash":
            cwd = run_bash(code, cwd, env)
        elif language == "python":
            monkeypatch.chdir(tmp_path)
            exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
        elif language == "sql":
            lake = ml.connect(tmp_path / "meshlake-demo" / "meshlake.yaml")
            rows = lake.sql(code).fetchall()
            assert rows, "the README's SQL example returns rows on the demo mesh"
        elif language == "yaml":
            config = tmp_path / "readme-config.yaml"
            config.write_text(code)
            assert load_settings(config).source.startswith(str(config))
        else:
            pytest.fail(f"README has a {language} block this test does not know how to run")
        ran[language] += 1
    assert ran["bash"] >= 3 and ran["python"] >= 3 and ran["sql"] == 1 and ran["yaml"] == 3
