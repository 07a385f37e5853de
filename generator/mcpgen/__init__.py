"""mcpgen: OpenAPI + a small mapping file → a typed, deployable remote MCP server project."""

__all__ = ["__version__"]

__version__ = "0.2.0"
