"""Templates name the credential they mean: none picks one out of a list by its position.

A scheme's credential variables are named for their role in the IR (`scheme.client_id`,
`scheme.token`, ...); an index into `credentials` would silently pick another variable the day
the list changes. Every template (and every templated file name) is parsed with Jinja and its
syntax tree searched, so no spelling of an index gets past: `[1]`, `.1`, slices, `first`,
`last`, unpacking, or `loop.index` inside a loop over the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

from mcpgen.escape import EscapeExtension

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

# Filters that pick items by position, and what `loop` tells about the position in a loop.
POSITIONAL_FILTERS = {"first", "last", "batch", "slice", "random"}
POSITIONAL_LOOP = {
    "index",
    "index0",
    "revindex",
    "revindex0",
    "first",
    "last",
    "previtem",
    "nextitem",
}


def _environment() -> jinja2.Environment:
    # copier.yml's options: the same syntax the render reads
    return jinja2.Environment(
        extensions=[EscapeExtension], trim_blocks=True, lstrip_blocks=True, autoescape=False
    )


def _is_list(node: nodes.Node) -> bool:
    """An expression for a list of credentials or of their variables (perhaps filtered)."""
    if isinstance(node, nodes.Filter) and node.node is not None:
        return _is_list(node.node)
    if isinstance(node, nodes.Getattr):
        return node.attr.endswith(("credentials", "variables"))
    if isinstance(node, nodes.Name):
        return node.name.endswith(("credentials", "variables"))
    return False


def _positional(node: nodes.Node) -> Iterator[nodes.Node]:
    """Every node of `node`'s tree that picks a credential by its position."""
    if isinstance(node, nodes.Getitem) and _is_list(node.node):
        key = node.arg
        if not (isinstance(key, nodes.Const) and isinstance(key.value, str)):
            yield node  # `[1]`, `.1`, `[1:]`, `[i]`: only a key by name is no position
    if (
        isinstance(node, nodes.Filter)
        and node.name in POSITIONAL_FILTERS
        and node.node is not None
        and _is_list(node.node)
    ):
        yield node  # `first`, `last`, ...
    if (
        isinstance(node, nodes.Assign)
        and isinstance(node.target, nodes.Tuple)
        and _is_list(node.node)
    ):
        yield node  # `{% set token, client_id = scheme.variables %}`
    if isinstance(node, nodes.For) and _is_list(node.iter):
        for child in node.body:
            yield from _loop_position(child)
    for child in node.iter_child_nodes():
        yield from _positional(child)


def _loop_position(node: nodes.Node) -> Iterator[nodes.Node]:
    """Reads of the position of the enclosing loop, not of a loop nested in it."""
    if (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "loop"
        and node.attr in POSITIONAL_LOOP
    ):
        yield node
    if isinstance(node, nodes.For):
        yield from _loop_position(node.iter)  # its body's `loop` is its own
        return
    for child in node.iter_child_nodes():
        yield from _loop_position(child)


def _findings(source: str, name: str) -> list[str]:
    tree = _environment().parse(source, name=name)
    return [f"{name}:{found.lineno}" for found in _positional(tree)]


def _templates() -> list[Path]:
    found = sorted(p for p in TEMPLATES.rglob("*") if p.is_file() and p.suffix == ".jinja")
    assert len(found) > 20, f"only {len(found)} templates under {TEMPLATES}"
    return found


def test_no_template_picks_a_credential_by_its_position() -> None:
    findings = []
    for path in _templates():
        relative = path.relative_to(TEMPLATES).as_posix()
        findings += _findings(path.read_text(encoding="utf-8"), relative)
        for part in path.relative_to(TEMPLATES).parts:  # templated file names too
            findings += _findings(part, f"{relative} (file name)")
    assert findings == [], "name the credential's role instead (SecurityScheme fields)"


def test_the_templates_do_read_credentials() -> None:
    """The search above looks where credentials are: were they renamed, it would find none."""
    sources = "".join(p.read_text(encoding="utf-8") for p in _templates())
    for read in ("scheme.credentials", "proxy_credentials", "client_id.env", "token.env"):
        assert read in sources


@pytest.mark.parametrize(
    "source",
    [
        "{{ scheme.credentials[1].env }}",
        "{{ project.proxy_scheme.credentials[2].env }}",
        "{{ scheme.credentials.0.env }}",
        "{% for c in scheme.credentials[1:] %}{{ c.env }}{% endfor %}",
        "{{ scheme.variables[0] }}",
        "{{ (scheme.credentials | list)[0].env }}",
        "{{ (scheme.credentials | first).env }}",
        "{{ scheme.variables | last }}",
        "{% set token, client = scheme.credentials %}",
        "{% for c in scheme.credentials %}{% if loop.index <= 2 %}x{% endif %}{% endfor %}",
        "{% for c in scheme.proxy_credentials %}{{ loop.first }}{% endfor %}",
        "{% for s in project.security %}{{ s.credentials[0].env }}{% endfor %}",
    ],
)
def test_each_spelling_of_a_position_is_found(source: str) -> None:
    assert _findings(source, "t.jinja") == ["t.jinja:1"]


@pytest.mark.parametrize(
    "source",
    [
        "{{ scheme.client_id.env }} {{ scheme.token.env }}",
        "{% for c in scheme.credentials %}{{ c.env }}={% endfor %}",
        "{{ project.test_credentials['UPSTREAM_KEY'] }}",
        "{{ scheme.variables | py }} {{ project.worker_variables | json }}",
        "{% for c in scheme.credentials %}{% for t in c.x %}{{ loop.index }}{% endfor %}"
        "{% endfor %}",
        "{{ project.operations[0].name }}",
    ],
)
def test_naming_a_role_is_not_a_position(source: str) -> None:
    assert _findings(source, "t.jinja") == []
