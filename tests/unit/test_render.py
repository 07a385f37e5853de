"""Rendering fails loudly: a misspelt template variable, unparsable output, ruff's message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mcpgen import render
from mcpgen.errors import McpgenError, Report
from mcpgen.format import format_tree
from mcpgen.ir import Project
from mcpgen.pipeline import load_spec
from mcpgen.translate import TranslateOptions, translate_project

ROOT = Path(__file__).resolve().parents[2]
BOOKSHOP = ROOT / "specs/bookshop/openapi.yaml"


def bookshop() -> Project:
    return translate_project(load_spec(BOOKSHOP), TranslateOptions(name="bookshop"), Report())


def test_a_misspelt_template_variable_fails_the_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "templates"
    shutil.copytree(render.template_dir(), template)
    readme = template / "project" / "README.md.jinja"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("{{ project.title | md }}", "{{ project.titel | md }}"))
    monkeypatch.setattr(render, "template_dir", lambda: template)
    project = bookshop()
    with pytest.raises(McpgenError) as caught:
        render.render(project, "", tmp_path / "out")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "template"
    assert "titel" in diagnostic.message
    assert diagnostic.file is not None and diagnostic.file.endswith("README.md.jinja")
    assert diagnostic.line == 1


def test_unparsable_output_names_the_file_line_and_ruffs_message(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "good.py").write_text("x = 1\n")
    (tmp_path / "src" / "bad.py").write_text('x = 1\ny = """unterminated\n')
    with pytest.raises(McpgenError) as caught:
        format_tree(tmp_path)
    rendered = [d.render() for d in caught.value.diagnostics]
    assert any(
        "src/bad.py (line 2)" in line
        and "missing closing quote" in line
        and "ruff check failed" in line
        for line in rendered
    ), rendered


def test_the_runtime_is_copied_byte_for_byte(tmp_path: Path) -> None:
    project = bookshop()
    tree = render.render_tree(project, "")
    copied = {
        path.rsplit("/", 1)[1]: content
        for path, (content, _) in tree.items()
        if path.startswith("src/bookshop_mcp/runtime/")
    }
    assert sorted(copied) == sorted(f"{m}.py" for m in project.runtime_modules)
    for name, content in copied.items():
        assert content == (render.RUNTIME / name).read_bytes(), name
    assert "compact.py" not in copied and "resources.py" not in copied


DEPLOY_FILES = {
    "docker": {"Dockerfile", ".dockerignore", "requirements.lock"},
    "fly": {"fly.toml"},
    "cloudflare": {"wrangler.jsonc", "worker/index.ts", "package.json", "package-lock.json"},
    "cloudflare_python": {
        "workers-python/wrangler.jsonc",
        "workers-python/pyproject.toml",
        "src/python_worker.py",
    },
}


@pytest.mark.parametrize("target", sorted(DEPLOY_FILES))
def test_a_deploy_target_turned_off_leaves_no_file(target: str) -> None:
    project = bookshop()
    every = set().union(*DEPLOY_FILES.values()) | {"tests/test_deploy.py"}
    assert every <= set(render.render_tree(project, ""))
    off = {target: False}
    if target == "docker":
        off.update(fly=False, cloudflare=False, aws_lambda=False)
    changed = project.model_copy(update={"deploy": project.deploy.model_copy(update=off)})
    tree = render.render_tree(changed, "")
    for name, files in DEPLOY_FILES.items():
        present = files & set(tree)
        assert present == (set() if name in off else files), name
    readme = tree["README.md"][0].decode()
    assert ("### Fly.io" in readme) == ("fly" not in off)
    if target == "docker":
        assert "hadolint" not in tree["pyproject.toml"][0].decode()


def test_the_lambda_stage_comes_and_goes_with_its_target() -> None:
    project = bookshop()
    assert "AS lambda" in render.render_tree(project, "")["Dockerfile"][0].decode()
    off = project.deploy.model_copy(update={"aws_lambda": False})
    tree = render.render_tree(project.model_copy(update={"deploy": off}), "")
    assert "AS lambda" not in tree["Dockerfile"][0].decode()
    assert "### AWS Lambda" not in tree["README.md"][0].decode()
