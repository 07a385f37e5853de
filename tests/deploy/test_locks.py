"""The locks shipped in the project template: they pin what projects declare, and the
Docker image's build steps install from them, run here outside a container."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from scripts.update_locks import (
    PACKAGE_JSON,
    PACKAGE_LOCK,
    PYTHON_LOCK,
    locked_requirements,
    template_requirements,
)
from tests.support import procs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "generated-examples" / "bookshop"
FIX = "python scripts/update_locks.py"


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def test_the_python_lock_pins_every_declared_requirement_with_hashes() -> None:
    text = PYTHON_LOCK.read_text(encoding="utf-8")
    pinned = locked_requirements(text)
    for line in template_requirements():
        requirement = Requirement(line)
        version = pinned.get(_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in the lock: {FIX}"
        assert Version(version) in requirement.specifier, f"{line} vs {version}: {FIX}"
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 6)[-1].strip())
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)


def test_the_npm_lock_pins_the_worker_packages_the_suite_tests_with() -> None:
    package = json.loads(PACKAGE_JSON.read_text(encoding="utf-8").replace(
        "{{ project.app_name | json }}", '"x"'))  # fmt: skip
    lock = json.loads(PACKAGE_LOCK.read_text(encoding="utf-8").replace(
        "{{ project.app_name | json }}", '"x"'))  # fmt: skip
    tools = json.loads((ROOT / "tools" / "node" / "package.json").read_text())["dependencies"]
    wanted = {**package["dependencies"], **package["devDependencies"]}
    for name, version in wanted.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, FIX
        assert tools[name] == version, f"tools/node tests {name} {tools[name]}, not {version}"
    assert lock["packages"][""]["dependencies"] == package["dependencies"], FIX


def test_the_image_build_steps_install_from_the_lock_offline(tmp_path: Path) -> None:
    """The Dockerfile's RUN steps of its build stage, with the venv under tmp_path in
    /opt/venv's place: every locked package installs with its hash checked, nothing is
    missing (`--no-deps`, then `pip check`), and the project builds with no index. Only
    `--no-cache-dir` is dropped, so that pip's cache spares the network here."""
    context = tmp_path / "context"
    shutil.copytree(EXAMPLE, context, ignore=shutil.ignore_patterns("tests", ".mcpgen"))
    venv = tmp_path / "venv"
    text = re.sub(r"\\\n\s*", " ", (context / "Dockerfile").read_text(encoding="utf-8"))
    build = text.split(" AS build", 1)[1].split("\nFROM ", 1)[0]
    steps = [line[4:] for line in build.splitlines() if line.startswith("RUN ")]
    assert steps[0] == "python -m venv /opt/venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    for step in steps[1:]:
        for command in step.split(" && "):
            argv = [venv / "bin" / Path(w).name if w.startswith("/opt/venv/bin/") else w
                    for w in shlex.split(command) if w != "--no-cache-dir"]  # fmt: skip
            done = procs.run_bounded([str(w) for w in argv], timeout=600, cwd=context)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    checked = procs.run_bounded([str(venv / "bin" / "pip"), "check"], timeout=120)
    assert checked.returncode == 0, checked.stdout
    script = procs.run_bounded([str(venv / "bin" / "bookshop-mcp"), "--help"], timeout=60)
    assert script.returncode == 0 and "--transport" in script.stdout
