"""Claude Code Fallback: a local proxy that fails Claude Code over between providers."""

__version__ = "0.1.0"

APP_SLUG = "claude-code-fallback"  # distribution, platform folders, keyring service
PRODUCT_NAME = "Claude Code Fallback"
