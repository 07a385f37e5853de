"""Regenerate `generated-examples/` from `specs/`: `python scripts/update_examples.py`.

Each `specs/<name>/` holds an OpenAPI document (`openapi.yaml` or `openapi.json`) and perhaps
a mapping (`mcpgen.yaml`); its project is generated afresh into `generated-examples/<name>/`,
through the same pipeline as `mcpgen generate`, so it records its inputs under `.mcpgen/`.
The golden test compares a fresh generation with the committed one, byte for byte.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from mcpgen.pipeline import generate  # noqa: E402

__all__ = ["EXAMPLES", "ROOT", "generate_example", "main"]

MAPPING = "mcpgen.yaml"


def _spec_file(folder: Path) -> Path:
    for name in ("openapi.yaml", "openapi.json"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{folder} has no openapi.yaml or openapi.json")


EXAMPLES = sorted(p.name for p in (ROOT / "specs").iterdir() if p.is_dir())


def generate_example(name: str, root: Path = ROOT) -> Path:
    """Generate `root/generated-examples/<name>` afresh from `root/specs/<name>/`.

    With `root` other than the repository, `root/specs/<name>/` must be a copy of the
    example's spec folder, so the recorded relative paths come out the same.
    """
    folder = root / "specs" / name
    mapping = folder / MAPPING
    out = root / "generated-examples" / name
    shutil.rmtree(out, ignore_errors=True)
    outcome = generate(
        out, _spec_file(folder), name=name, mapping=mapping if mapping.is_file() else None
    )
    if outcome.merge.conflicts:  # a fresh generation merges nothing: this is a bug
        raise RuntimeError(f"conflicts in a fresh generation of {name}: {outcome.merge.conflicts}")
    return out


def main() -> None:
    for name in EXAMPLES:
        generate_example(name)
        print(f"generated-examples/{name}")


if __name__ == "__main__":
    main()
