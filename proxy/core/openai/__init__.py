"""Translation between the Anthropic Messages and OpenAI Chat Completions wire formats."""
