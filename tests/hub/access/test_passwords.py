"""A new password follows the API's rule for one line of text (the pattern its OpenAPI
document shows): any character a person can type, no control character."""

from __future__ import annotations

import pytest

from hub.access.passwords import PasswordRefused, check_new_password


@pytest.mark.parametrize("password", ["correct horse", "correct\u00a0horse", "口令口令口令口令"])
def test_typed_characters_make_a_password(password: str) -> None:
    check_new_password(password)


@pytest.mark.parametrize("password", ["correct\thorse", "correct\x00horse", "correct\x85horse"])
def test_control_characters_are_refused(password: str) -> None:
    with pytest.raises(PasswordRefused, match="no control characters"):
        check_new_password(password)


def test_length_is_bounded() -> None:
    with pytest.raises(PasswordRefused, match="characters"):
        check_new_password("short")
