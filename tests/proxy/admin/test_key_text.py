"""A key typed or pasted into the settings: spaces around it go, spaces inside are refused."""

from __future__ import annotations

import pytest

from proxy.admin.context import ApiError
from proxy.admin.write_routes import secret_of


def test_spaces_around_a_key_are_trimmed() -> None:
    assert secret_of("  sk-or-1234 \n") == "sk-or-1234"


@pytest.mark.parametrize("typed", ["sk-or 1234", "sk-or\u00a01234"])
def test_spaces_inside_a_key_are_refused_in_plain_words(typed: str) -> None:
    with pytest.raises(ApiError) as refused:
        secret_of(typed)
    assert refused.value.message.startswith("A key has no spaces inside")
    assert refused.value.field == "secret"


def test_no_key_typed_is_none() -> None:
    assert secret_of("") is None
    assert secret_of(None) is None
