import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    """The intake rate limit counts in the cache; every test starts from zero."""
    cache.clear()
    yield
    cache.clear()
