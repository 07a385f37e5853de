"""`python -m generator` is the `mcpgen` command."""

from .cli import main

main()
