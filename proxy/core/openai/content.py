"""Anthropic content blocks as OpenAI content parts: text, images, documents, tool results."""

from __future__ import annotations

from typing import Any

Part = dict[str, Any]


def text_part(text: str) -> Part:
    return {"type": "text", "text": text}


def dict_field(data: dict[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` when it is a dict, else an empty one."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def dicts_of(value: Any) -> list[dict[str, Any]]:
    """The dict items of a list; anything else is no items."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def blocks_of(content: Any) -> list[dict[str, Any]]:
    """A message's content as a list of block dicts; a plain string is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return dicts_of(content)


def text_of(block: dict[str, Any]) -> str:
    text = block.get("text") if block.get("type") == "text" else None
    return text if isinstance(text, str) else ""


def user_parts(block: dict[str, Any]) -> list[Part]:
    """The parts one user block becomes; blocks OpenAI has no place for become nothing."""
    kind = block.get("type")
    if kind == "text":
        return [text_part(text_of(block))] if text_of(block) else []
    if kind == "image":
        image = image_part(block.get("source"))
        return [image] if image else []
    if kind == "document":
        return document_parts(block)
    return []


def image_part(source: Any) -> Part | None:
    url = _source_url(source)
    return {"type": "image_url", "image_url": {"url": url}} if url else None


def _source_url(source: Any) -> str | None:
    if not isinstance(source, dict):
        return None
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        return (
            f"data:{source.get('media_type') or 'application/octet-stream'};base64,{source['data']}"
        )
    url = source.get("url")
    return url if source.get("type") == "url" and isinstance(url, str) and url else None


def document_parts(block: dict[str, Any]) -> list[Part]:
    """PDFs as `file` parts; text documents as text; a linked document as a line naming it."""
    source = block.get("source")
    if not isinstance(source, dict):
        return []
    title = block.get("title") if isinstance(block.get("title"), str) else None
    kind = source.get("type")
    if kind == "base64":
        return [_file_part(source, title)]
    if kind == "text" and isinstance(source.get("data"), str):
        return [text_part(f"{title}\n\n{source['data']}" if title else source["data"])]
    if kind == "content":
        return [part for inner in blocks_of(source.get("content")) for part in user_parts(inner)]
    if kind == "url" and isinstance(source.get("url"), str):
        return [text_part(f"[Document: {title or source['url']}] {source['url']}")]
    return []


def _file_part(source: dict[str, Any], title: str | None) -> Part:
    media_type = source.get("media_type") or "application/pdf"
    data = source.get("data") if isinstance(source.get("data"), str) else ""
    filename = title or ("document.pdf" if media_type == "application/pdf" else "document")
    return {
        "type": "file",
        "file": {"filename": filename, "file_data": f"data:{media_type};base64,{data}"},
    }


def tool_result_content(block: dict[str, Any]) -> tuple[str, list[Part]]:
    """A tool message's text, and the images or files it returned (OpenAI tool messages
    hold text only, so those follow in the user message of the same turn)."""
    parts = [part for inner in blocks_of(block.get("content")) for part in user_parts(inner)]
    text = "\n".join(part["text"] for part in parts if part["type"] == "text")
    attachments = [part for part in parts if part["type"] != "text"]
    if block.get("is_error") is True:
        text = f"Error: {text}" if text else "Error"
    if not text:
        text = "(attached below)" if attachments else "(no output)"
    return text, attachments


def compact(parts: list[Part]) -> str | list[Part]:
    """Text-only content as one string, which every OpenAI-style server accepts."""
    if all(part["type"] == "text" for part in parts):
        return "\n\n".join(part["text"] for part in parts)
    return parts
