"""MovieLens 100k as recommender input (read from the shared data folder, never copied)."""

from __future__ import annotations

import pandas as pd
import pytest

from tagora.recs.interactions import Interactions, build_interactions
from tagora.recs.movielens import load_movielens
from tests.conftest import SHARED_DATA, need

MOVIELENS = SHARED_DATA / "movielens-100k"


@pytest.fixture(scope="session")
def movielens() -> tuple[pd.DataFrame, pd.DataFrame]:
    need((MOVIELENS / "u.data").exists(), f"{MOVIELENS} is missing")
    return load_movielens(MOVIELENS)


@pytest.fixture(scope="session")
def films(movielens: tuple[pd.DataFrame, pd.DataFrame]) -> Interactions:
    behaviours, catalogue = movielens
    return build_interactions(behaviours, catalogue, half_life_days=None)


def frame(rows: list[tuple[int, str, str, str]], basket: list[str] | None = None) -> pd.DataFrame:
    """Behaviours from ``(uid, sku, behaviour, ISO time)`` tuples."""
    out = pd.DataFrame(rows, columns=["uid", "sku", "behaviour", "at"])
    out["at"] = pd.to_datetime(out["at"], utc=True)
    out["basket"] = basket if basket is not None else [f"{u}@{t}" for u, _, _, t in rows]
    return out
