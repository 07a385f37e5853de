"""Regenerate `generated-examples/` from `specs/`: `python scripts/update_examples.py`.

Each `specs/<name>/` holds an OpenAPI document (`openapi.yaml` or `openapi.json`); its project
is generated into `generated-examples/<name>/`. The golden test compares a fresh generation
with the committed one, byte for byte.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.build import BuildOptions  # noqa: E402
from generator.pipeline import generate  # noqa: E402

__all__ = ["EXAMPLES", "generate_example", "main"]


def _spec_file(folder: Path) -> Path:
    for name in ("openapi.yaml", "openapi.json"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{folder} has no openapi.yaml or openapi.json")


EXAMPLES = sorted(p.name for p in (ROOT / "specs").iterdir() if p.is_dir())


def generate_example(name: str, out: Path) -> None:
    generate(_spec_file(ROOT / "specs" / name), out, BuildOptions(name=name))


def main() -> None:
    for name in EXAMPLES:
        out = ROOT / "generated-examples" / name
        shutil.rmtree(out, ignore_errors=True)
        generate_example(name, out)
        print(f"generated-examples/{name}")


if __name__ == "__main__":
    main()
