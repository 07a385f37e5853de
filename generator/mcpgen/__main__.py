"""`python -m mcpgen` is the `mcpgen` command."""

from .cli import main

main()
