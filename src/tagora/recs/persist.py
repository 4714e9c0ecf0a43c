"""Save and load a fitted recommender as one ``.npz`` of plain arrays plus a JSON spec (never pickle).

Loading only rebuilds classes named in ``ESTIMATORS`` from numbers, strings and arrays, so a model file
cannot run code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from tagora.recs.als import ALS, BPR
from tagora.recs.base import Recommender
from tagora.recs.buy_again import BuyAgain
from tagora.recs.content import ContentBased
from tagora.recs.ease import EASE
from tagora.recs.hybrid import SwitchingHybrid, WeightedHybrid
from tagora.recs.interactions import Interactions, ItemInfo
from tagora.recs.itemcf import ItemCF
from tagora.recs.popularity import Popularity
from tagora.recs.rules import AssociationRules
from tagora.recs.tagbased import TagBased
from tagora.recs.usercf import UserCF

ESTIMATORS: dict[str, type[Recommender]] = {
    cls.__name__: cls
    for cls in (
        Popularity,
        ItemCF,
        UserCF,
        ALS,
        BPR,
        EASE,
        ContentBased,
        BuyAgain,
        AssociationRules,
        TagBased,
        WeightedHybrid,
        SwitchingHybrid,
    )
}
ITEM_FIELDS = ("skus", "names", "categories", "brands", "prices")
LOG_FIELDS = ("purchase_rows", "purchase_cols", "purchase_at", "purchase_basket")


def _dump(obj: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, Recommender):
        params = {k: _dump(v, f"{key}.p.{k}", arrays) for k, v in obj.get_params(deep=False).items()}
        learned = {
            k: _dump(v, f"{key}.a.{k}", arrays)
            for k, v in vars(obj).items()
            if k.endswith("_") and not k.startswith("_") and k != "interactions_"
        }
        return {"estimator": type(obj).__name__, "params": params, "learned": learned}
    if sp.issparse(obj):
        m = sp.csr_matrix(obj)
        arrays.update({f"{key}.data": m.data, f"{key}.indices": m.indices, f"{key}.indptr": m.indptr})
        return {"csr": key, "shape": list(m.shape)}
    if isinstance(obj, np.ndarray):
        arrays[key] = obj
        return {"array": key}
    if isinstance(obj, tuple | list):
        return {"tuple": [_dump(v, f"{key}.{i}", arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, np.generic):
        return {"value": obj.item()}
    if obj is None or isinstance(obj, bool | int | float | str):
        return {"value": obj}
    raise TypeError(f"cannot save {type(obj).__name__} at {key}")


def _load(spec: Any, arrays: Any, X: Interactions) -> Any:
    if "estimator" in spec:
        cls = ESTIMATORS[spec["estimator"]]
        model = cls(**{k: _load(v, arrays, X) for k, v in spec["params"].items()})
        for name, value in spec["learned"].items():
            setattr(model, name, _load(value, arrays, X))
        if spec["learned"]:
            model.interactions_ = X
        return model
    if "csr" in spec:
        key = spec["csr"]
        parts = (arrays[f"{key}.data"], arrays[f"{key}.indices"], arrays[f"{key}.indptr"])
        return sp.csr_matrix(parts, shape=tuple(spec["shape"]))
    if "array" in spec:
        return arrays[spec["array"]]
    if "tuple" in spec:
        return tuple(_load(v, arrays, X) for v in spec["tuple"])
    return spec["value"]


def save_model(model: Recommender, path: Path, meta: dict[str, Any]) -> None:
    """Write atomically (a reader never sees half a file)."""
    X: Interactions = model.interactions_
    arrays: dict[str, np.ndarray] = {
        "X.data": X.matrix.data,
        "X.indices": X.matrix.indices,
        "X.indptr": X.matrix.indptr,
        "X.uids": X.uids,
        **{f"X.items.{f}": getattr(X.items, f) for f in ITEM_FIELDS},
        **{f"X.{f}": getattr(X, f) for f in LOG_FIELDS},
    }
    spec = {"model": _dump(model, "m", arrays), "meta": meta, "shape": list(X.shape), "as_of": X.as_of}
    arrays["spec"] = np.array(json.dumps(spec))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, allow_pickle=False, **arrays)
    os.replace(tmp, path)


def load_model(path: Path) -> tuple[Recommender, dict[str, Any]]:
    with np.load(path, allow_pickle=False) as arrays:
        spec = json.loads(str(arrays["spec"]))
        matrix = sp.csr_matrix(
            (arrays["X.data"], arrays["X.indices"], arrays["X.indptr"]), shape=tuple(spec["shape"])
        )
        items = ItemInfo(**{f: arrays[f"X.items.{f}"] for f in ITEM_FIELDS})
        X = Interactions(
            matrix=matrix,
            uids=arrays["X.uids"],
            items=items,
            as_of=float(spec["as_of"]),
            **{f: arrays[f"X.{f}"] for f in LOG_FIELDS},
        )
        model = _load(spec["model"], arrays, X)
    return model, spec["meta"]
