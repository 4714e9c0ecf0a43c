"""Every recommender keeps scikit-learn's contract, explains itself and never fails a new customer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tagora.recs.als import ALS, BPR
from tagora.recs.base import Filters, Recommender
from tagora.recs.buy_again import BuyAgain
from tagora.recs.content import ContentBased
from tagora.recs.ease import EASE
from tagora.recs.hybrid import SwitchingHybrid, WeightedHybrid
from tagora.recs.interactions import Interactions, build_interactions
from tagora.recs.itemcf import ItemCF
from tagora.recs.popularity import Popularity
from tagora.recs.rules import AssociationRules
from tagora.recs.tagbased import TagBased
from tagora.recs.usercf import UserCF
from tests.recs.conftest import frame

MAKERS: dict[str, Callable[[], Recommender]] = {
    "popularity": Popularity,
    "trending": lambda: Popularity(half_life_days=30),
    "itemcf": ItemCF,
    "usercf": UserCF,
    "als": lambda: ALS(factors=16, iterations=5, random_state=3),
    "bpr": lambda: BPR(factors=16, iterations=10, random_state=3),
    "ease": EASE,
    "content": ContentBased,
    "buy_again": BuyAgain,
    "rules": lambda: AssociationRules(min_count=10),
    "tags": TagBased,
    "hybrid": lambda: SwitchingHybrid(
        WeightedHybrid((("itemcf", ItemCF()), ("ease", EASE())), (1.0, 0.5), diversity=0.3), Popularity()
    ),
}
USER = 1


@pytest.fixture(scope="module")
def fitted(films: Interactions) -> dict[str, Recommender]:
    return {name: make().fit(films) for name, make in MAKERS.items()}


@pytest.mark.parametrize("name", list(MAKERS))
def test_init_only_stores_hyperparameters_and_fit_returns_self(name: str, films: Interactions) -> None:
    model = MAKERS[name]()
    assert not [k for k in vars(model) if k.endswith("_")]
    copy = clone(model)
    assert copy.get_params().keys() == model.get_params().keys()
    with pytest.raises(NotFittedError):
        model.recommend(USER, 5)
    assert copy.fit(films) is copy
    assert [k for k in vars(copy) if k.endswith("_")]


@pytest.mark.parametrize("name", ["als", "bpr", "hybrid"])
def test_the_same_random_state_gives_the_same_recommendations(name: str, films: Interactions) -> None:
    first = MAKERS[name]().fit(films).recommend(USER, 10)
    again = MAKERS[name]().fit(films).recommend(USER, 10)
    assert [r.sku for r in first] == [r.sku for r in again]
    assert np.allclose([r.score for r in first], [r.score for r in again])


@pytest.mark.parametrize("name", list(MAKERS))
def test_explanations_name_real_items_from_the_customers_own_history(
    name: str, fitted: dict[str, Recommender], films: Interactions
) -> None:
    history = set(films.items.skus[films.history(films.row(USER))].tolist())  # type: ignore[arg-type]
    recs = fitted[name].recommend(USER, 10)
    assert len(recs) == 10 and all(r.reason for r in recs)
    for rec in recs:
        assert set(rec.because) <= history
        for sku in rec.because:
            assert films.items.names[films.col(sku)] in rec.reason
    if name not in ("popularity", "trending"):
        assert any(r.because for r in recs), "a personal model links some items to the history"


@pytest.mark.parametrize("name", list(MAKERS))
def test_a_customer_with_no_history_gets_popular_items_not_an_error(
    name: str, fitted: dict[str, Recommender], films: Interactions
) -> None:
    recs = fitted[name].recommend(999_999, 5)
    popular = set(films.items.skus[np.argsort(-fitted["popularity"].popularity_)[:50]].tolist())
    assert len(recs) == 5 and {r.sku for r in recs} <= popular
    assert all(r.because == () for r in recs)


def test_already_seen_items_are_excluded_unless_asked(
    fitted: dict[str, Recommender], films: Interactions
) -> None:
    history = set(films.items.skus[films.history(films.row(USER))].tolist())  # type: ignore[arg-type]
    assert not {r.sku for r in fitted["itemcf"].recommend(USER, 20)} & history
    assert {r.sku for r in fitted["buy_again"].recommend(USER, 5)} <= history


def test_category_and_price_filters_keep_only_matching_items() -> None:
    rows = [(1, "a", "purchase", "2024-01-01"), (2, "a", "purchase", "2024-01-01")]
    rows += [(2, s, "purchase", "2024-01-02") for s in ("b", "c", "d")] + [(3, "e", "view", "2024-01-01")]
    import pandas as pd

    catalogue = pd.DataFrame(
        {
            "sku": list("abcde"),
            "name": ["A", "B", "C", "D", "E"],
            "category_path": ["home", "home/kitchen", "garden", "home/kitchen/knives", "home/kitchenette"],
            "brand": "",
            "price": [1.0, 5.0, 5.0, 50.0, 5.0],
        }
    )
    model = ItemCF().fit(build_interactions(frame(rows), catalogue))
    kitchen = model.recommend(1, 5, Filters(categories=("home/kitchen",)))
    assert {r.sku for r in kitchen} == {"b", "d"}
    cheap = model.recommend(1, 5, Filters(categories=("home",), price_max=10.0, exclude_skus=("e",)))
    assert {r.sku for r in cheap} == {"b"}


def test_mmr_makes_a_list_more_diverse(films: Interactions) -> None:
    from tagora.recs.base import item_space

    def diversity(model: Recommender) -> float:
        cols = np.array([films.col(r.sku) for r in model.recommend(USER, 10)])
        sims = item_space(films).similarity(cols, cols)
        return float(1 - (sims.sum() - np.trace(sims)) / 90)

    plain = WeightedHybrid((("itemcf", ItemCF()),), (1.0,)).fit(films)
    diverse = WeightedHybrid((("itemcf", ItemCF()),), (1.0,), diversity=0.5).fit(films)
    assert diversity(diverse) > diversity(plain)


def test_association_rules_have_the_support_confidence_and_lift_of_the_baskets() -> None:
    # Four baskets: {a,b}, {a,b}, {a,c}, {c}: a -> b has support 2/4, confidence 2/3, lift (2/3)/(2/4).
    rows = [(1, "a", "purchase", "2024-01-01"), (1, "b", "purchase", "2024-01-01")]
    rows += [(2, "a", "purchase", "2024-01-02"), (2, "b", "purchase", "2024-01-02")]
    rows += [
        (3, "a", "purchase", "2024-01-03"),
        (3, "c", "purchase", "2024-01-03"),
        (4, "c", "purchase", "2024-01-04"),
    ]
    baskets = ["o1", "o1", "o2", "o2", "o3", "o3", "o4"]
    model = AssociationRules(min_count=1, min_lift=0.0).fit(build_interactions(frame(rows, baskets)))
    rule = model.rules_for("a", 1)[0]
    assert rule.consequent == "b"
    assert rule.support == pytest.approx(0.5)
    assert rule.confidence == pytest.approx(2 / 3)
    assert rule.lift == pytest.approx((2 / 3) / 0.5)
    assert model.similar_items("a", 1)[0][0] == "b"


def test_buy_again_puts_habits_and_recent_purchases_first() -> None:
    rows = [(1, "habit", "purchase", d) for d in ("2024-01-01", "2024-02-01", "2024-03-01")]
    rows += [(1, "once_old", "purchase", "2024-01-01"), (1, "once_new", "purchase", "2024-03-01")]
    model = BuyAgain(half_life_days=30).fit(build_interactions(frame(rows)))
    recs = model.recommend(1, 3)
    assert [r.sku for r in recs] == ["habit", "once_new", "once_old"]
    assert "3 times, last on 2024-03-01" in recs[0].reason


def test_similar_items_are_films_chosen_by_the_same_viewers(fitted: dict[str, Recommender]) -> None:
    star_wars = fitted["itemcf"].similar_items("50", 5)  # Star Wars (1977)
    assert "181" in [sku for sku, _ in star_wars]  # Return of the Jedi (1983)
    assert all(score > 0 for _, score in star_wars)


def test_ease_refuses_a_catalogue_too_large_for_a_dense_matrix(films: Interactions) -> None:
    with pytest.raises(ValueError, match="max_items"):
        EASE(max_items=100).fit(films)


def test_tag_based_recommends_a_customers_interest_categories_and_names_the_items_behind_them() -> None:
    rows = [(1, "k1", "purchase", "2024-01-01"), (1, "k2", "purchase", "2024-01-02")]
    rows += [(u, s, "purchase", "2024-01-03") for u in (2, 3) for s in ("g1", "g2", "k3", "x1")]
    catalogue = pd.DataFrame(
        {
            "sku": ["k1", "k2", "k3", "g1", "g2", "x1"],
            "name": ["Knife", "Pan", "Pot", "Rake", "Hoe", "Misc"],
            "category_path": ["home/kitchen"] * 3 + ["garden/tools"] * 2 + [""],
            "brand": ["Cook", "Cook", "Cook", "Dig", "Dig", ""],
            "price": [1.0] * 6,
        }
    )
    model = TagBased().fit(build_interactions(frame(rows), catalogue))
    top = model.recommend(1, 1)[0]
    assert top.sku == "k3" and ("home/kitchen" in top.reason or "brand Cook" in top.reason)
    assert set(top.because) <= {"k1", "k2"} and top.because


@pytest.mark.parametrize("name", ["usercf", "ease", "buy_again"])
def test_one_customer_is_scored_exactly_as_in_a_batch(name: str, fitted: dict[str, Recommender]) -> None:
    model = fitted[name]  # these have a faster path for the one customer a request asks about
    rows = np.arange(0, 900, 9)
    batch = model.score_rows(rows)
    one = np.vstack([model.score_rows(np.array([r])) for r in rows])
    assert np.allclose(batch, one, atol=1e-4)
