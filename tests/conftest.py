import pytest

from tests.factory import Personas, load_plan, make_personas


@pytest.fixture
def plan(db):
    """The real Kahoku plan from fixtures/, loaded through the same loader staff use."""
    return load_plan()


@pytest.fixture
def personas(plan) -> Personas:
    return make_personas()
