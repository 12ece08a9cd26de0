"""Translation between the Anthropic Messages and OpenAI Chat Completions wire formats."""

from proxy.core.openai.request import anthropic_to_openai
from proxy.core.openai.response import openai_error_to_anthropic, openai_to_anthropic
from proxy.core.openai.stream import StreamTranslator

__all__ = [
    "StreamTranslator",
    "anthropic_to_openai",
    "openai_error_to_anthropic",
    "openai_to_anthropic",
]
