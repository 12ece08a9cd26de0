"""A provider's own model list: where to ask (`/v1/models` of either format), and its answer."""

from __future__ import annotations

import json
from collections.abc import Mapping

from proxy.core.config import Endpoint

MAX_MODELS = 2000


def models_url(endpoint: Endpoint) -> str:
    if endpoint.format == "openai":
        return f"{endpoint.base_url}/models"
    return f"{endpoint.base_url}/v1/models?limit=1000"


def model_ids(body: bytes) -> list[str]:
    """The ids in `{"data": [{"id": …}, …]}` (both formats), sorted; ValueError otherwise."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the answer is not JSON") from None
    listed = data.get("data") if isinstance(data, Mapping) else data
    if not isinstance(listed, list):
        raise ValueError('the answer has no "data" list of models')
    ids = {str(item["id"]) for item in listed if isinstance(item, Mapping) and item.get("id")}
    return sorted(ids)[:MAX_MODELS]
