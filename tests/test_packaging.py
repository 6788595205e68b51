"""A user's type checker finds qa's types after `pip install -e .` and after a normal install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
USES_QA = """import qa

answer: qa.Answer = qa.Retriever.load("index").ask("Who is sending cluster munitions to Ukraine?")
start: int = answer.quotes[0].start
"""
MISUSES_QA = USES_QA.replace("start: int", "start: str")


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "MYPYPATH")}  # as a user has it
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("install", ["editable", "wheel"])
def test_mypy_finds_qa_in_a_fresh_install(tmp_path, install):
    source = tmp_path / "clone"  # a copy, so that building writes nothing into this checkout
    for name in ("qa", "ui"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = run(sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_{install}({str(tmp_path / 'dist')!r})",
                cwd=source)
    assert built.returncode == 0, built.stderr[-2000:]
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path).returncode == 0
    python = venv / "bin" / "python"
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index",
                    *(tmp_path / "dist").glob("*.whl"), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-2000:]
    (tmp_path / "uses.py").write_text(USES_QA)
    (tmp_path / "misuses.py").write_text(MISUSES_QA)

    def mypy(script: str) -> subprocess.CompletedProcess:
        return run(sys.executable, "-m", "mypy", "--python-executable", python, "--cache-dir", tmp_path / "mypy-cache",
                   script, cwd=tmp_path)

    checked = mypy("uses.py")
    assert checked.returncode == 0, checked.stdout
    wrong = mypy("misuses.py")
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' in wrong.stdout
