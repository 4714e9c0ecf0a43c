"""What other areas may call. Reads return pydantic models, never ORM objects; writes are ``logic`` verbs."""

from tagora.profiles.logic import (
    INTERACTION_KINDS,
    add_interaction,
    add_interactions,
    export_customers,
    search_customers,
    upsert_customers,
    upsert_products,
    view_customer,
    view_timeline,
)
from tagora.profiles.models import CANCELLATION, EVENTS, MONEY, ORDER_LINES, ORDERS, PURCHASE, UTC_TS
from tagora.profiles.queries import (
    customer_keys_to_uids,
    find_customers,
    monthly_revenue,
    order_summary,
    store_counts,
    timeline,
)

__all__ = [
    "CANCELLATION",
    "EVENTS",
    "INTERACTION_KINDS",
    "MONEY",
    "ORDERS",
    "ORDER_LINES",
    "PURCHASE",
    "UTC_TS",
    "add_interaction",
    "add_interactions",
    "customer_keys_to_uids",
    "export_customers",
    "find_customers",
    "monthly_revenue",
    "order_summary",
    "search_customers",
    "store_counts",
    "timeline",
    "upsert_customers",
    "upsert_products",
    "view_customer",
    "view_timeline",
]
