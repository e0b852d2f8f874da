from __future__ import annotations

from collections.abc import Iterator

import pytest

from fastasgi._serializer import ResponseEncoder, set_date
from tests.serializer.wire import DATE
from tests.support.settings import response_defaults


@pytest.fixture(autouse=True)
def fixed_date() -> Iterator[None]:
    set_date(DATE)
    yield
    set_date(DATE)


@pytest.fixture
def encoder() -> ResponseEncoder:
    return ResponseEncoder(response_defaults())
