"""Environment-variable snippets for Claude Code: the same text the settings page shows."""

from proxy.core.envsnippets import SHELLS, Shell, env_vars, snippet

__all__ = ["SHELLS", "Shell", "env_vars", "snippet"]
