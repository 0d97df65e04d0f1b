"""The real liblouis engine for the formats tests."""

import pytest

from braillejobs.translate.registry import get_engine


@pytest.fixture(scope="session")
def engine():
    return get_engine("louis", "en-ueb-g2.ctb")
