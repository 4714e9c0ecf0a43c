"""MovieLens 100k as behaviours: a rating of 4 or 5 is a positive ("purchase"); genres are categories."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]


def load_movielens(folder: Path, min_rating: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Behaviours (``uid, sku, behaviour, at, basket``) and the catalogue (``sku, name, category_path``)."""
    ratings = pd.read_csv(folder / "u.data", sep="\t", names=["uid", "item", "rating", "ts"], dtype="int64")
    positive = ratings[ratings["rating"] >= min_rating]
    behaviours = pd.DataFrame(
        {
            "uid": positive["uid"].to_numpy(),
            "sku": positive["item"].astype(str).to_numpy(),
            "behaviour": "purchase",
            "at": positive["ts"].astype("float64").to_numpy(),
            # No baskets in ratings: a viewer's whole history is one "basket" for association rules.
            "basket": positive["uid"].astype(str).to_numpy(),
        }
    )
    columns = ["item", "title", "released", "video", "url", *GENRES]
    items = pd.read_csv(folder / "u.item", sep="|", names=columns, encoding="latin-1", dtype=str)
    flags = items[GENRES].astype(int).to_numpy().astype(bool)
    genres = ["/".join(g for g, on in zip(GENRES, row, strict=True) if on) for row in flags]
    catalogue = pd.DataFrame(
        {
            "sku": items["item"],
            "name": items["title"].fillna(""),
            "category_path": genres,
            "brand": "",
            "price": None,
        }
    )
    return behaviours, catalogue
