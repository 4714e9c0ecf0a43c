"""CDNOW, the data set of the BG/NBD and Gamma-Gamma papers, read from the shared data folder."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.logic import import_dataset
from tagora.ingest.sources.synthetic.generate import generate_dataset
from tagora.scoring import summarize_purchases
from tests.conftest import SHARED_DATA, need

CDNOW_SAMPLE = SHARED_DATA / "cdnow" / "CDNOW_sample.txt"


def read_cdnow_sample(path: Path) -> pd.DataFrame:
    """Columns: master id, sample id, YYYYMMDD, number of CDs, dollar value (whitespace separated)."""
    frame = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["master", "customer", "day", "cds", "amount"],
        dtype={"day": str},
    )
    frame["ordered_at"] = pd.to_datetime(frame["day"], format="%Y%m%d")
    return frame


@pytest.fixture(scope="session")
def cdnow_calibration() -> pd.DataFrame:
    """The 2,357 customers summarised over the 39-week calibration period, in weeks."""
    need(CDNOW_SAMPLE.exists(), f"{CDNOW_SAMPLE} is missing")
    return summarize_purchases(read_cdnow_sample(CDNOW_SAMPLE), date(1997, 9, 30), unit_days=7)


SHOP_START, SHOP_END = date(2025, 1, 1), date(2025, 12, 31)


@pytest.fixture(scope="session")
def shop_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded ``tagora generate`` data set: 800 customers buying through 2025."""
    folder = tmp_path_factory.mktemp("shop")
    generate_dataset(folder, 800, 5, SHOP_START, SHOP_END)
    return folder


@pytest.fixture
def shop(stores: Stores, shop_folder: Path) -> Stores:
    """The test's stores with the synthetic shop imported."""
    import_dataset(stores, CLI_OPERATOR, shop_folder)
    return stores
