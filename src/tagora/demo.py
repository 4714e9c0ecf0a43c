"""``tagora demo``: generate a synthetic retail data set, import it, and hand out a demo login."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.ingest.logic import import_dataset
from tagora.ingest.schemas import ImportReport
from tagora.ingest.sources.synthetic.generate import generate_dataset
from tagora.profiles.facade import store_counts
from tagora.tags.facade import compute_tags, install_library

DEMO_USER = "demo"
DEMO_END = date(2026, 10, 31)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str


def load_demo_data(stores: Stores, customers: int, seed: int) -> ImportReport | None:
    """Generate and import the data set, and compute the built-in tags, unless the stores hold customers.

    A step that fails raises an ``AppError`` naming it: a demo without its data or its tags is a failed
    demo (the command exits non-zero), not a quiet one.
    """
    with stores.sessions() as session:
        if store_counts(session, stores.warehouse)["customers"]:
            return None
    folder = stores.settings.home / "demo-dataset"
    start = date(DEMO_END.year - 2, DEMO_END.month, DEMO_END.day)
    with _step("generate"):
        generate_dataset(folder, customers=customers, seed=seed, start=start, end=DEMO_END)
    with _step("import"):
        report = import_dataset(stores, CLI_OPERATOR, folder)
    install_library(stores.sessions, CLI_OPERATOR)
    with _step("tags.compute"):
        run = compute_tags(stores, CLI_OPERATOR, as_of=DEMO_END)  # the segment builder then has every tag
    if run.status != "succeeded":
        errors = "; ".join(f"{k}: {v}" for k, v in run.errors.items())
        raise AppError(
            "step_failed",
            f"the demo's tags.compute step failed (tag run {run.id} {run.status}): {errors}",
            500,
            {"step": "tags.compute", "run": run.id},
        )
    return report


@contextmanager
def _step(name: str) -> Iterator[None]:
    try:
        yield
    except AppError:
        raise
    except Exception as exc:
        raise AppError(
            "step_failed", f"the demo's {name} step failed: {type(exc).__name__}: {exc}", 500, {"step": name}
        ) from exc


def demo_login(stores: Stores) -> DemoLogin:
    """A fresh password for the demo admin on every start (it is printed, never stored in clear)."""
    password = secrets.token_urlsafe(9)
    if core_logic.user_exists(stores.sessions, DEMO_USER):
        core_logic.set_password(stores.sessions, CLI_OPERATOR, DEMO_USER, password)
    else:
        core_logic.create_user(stores.sessions, CLI_OPERATOR, DEMO_USER, password, "admin", "Demo admin")
    return DemoLogin(DEMO_USER, password)
