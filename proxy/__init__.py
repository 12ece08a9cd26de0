"""Claude Code Fallback: a local proxy that fails Claude Code over between providers."""

__version__ = "0.1.0"

APP_NAME = "claude-code-fallback"
PRODUCT_NAME = "Claude Code Fallback"
