"""What other areas may call. Reads return pydantic models, never ORM objects; writes are ``logic`` verbs."""

from tagora.profiles.logic import (
    add_interaction,
    export_customers,
    search_customers,
    upsert_customers,
    upsert_products,
    view_customer,
)
from tagora.profiles.queries import (
    customer_keys_to_uids,
    find_customer_uid,
    find_customers,
    monthly_revenue,
    order_summary,
    store_counts,
    timeline,
)

__all__ = [
    "add_interaction",
    "customer_keys_to_uids",
    "export_customers",
    "find_customer_uid",
    "find_customers",
    "monthly_revenue",
    "order_summary",
    "search_customers",
    "store_counts",
    "timeline",
    "upsert_customers",
    "upsert_products",
    "view_customer",
]
