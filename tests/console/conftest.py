from __future__ import annotations

import pytest

from tagora.core.stores import Stores
from tests.console.seed import seed


@pytest.fixture
def seeded(stores: Stores, users: dict[str, str]) -> dict[str, int]:
    return seed(stores)
