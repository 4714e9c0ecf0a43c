"""The console through HTTP: sign-in, dashboard figures, masking per role, languages and search."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tagora.core.stores import Stores
from tests.conftest import PASSWORD, login


def csrf_of(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, username: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(client), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


def test_pages_redirect_to_login_when_signed_out(client: TestClient) -> None:
    for path in ("/", "/customers", "/customers/C001"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
    assert client.get("/customers", follow_redirects=False).headers["location"] == "/login?next=%2Fcustomers"
    partial = client.get("/partials/customers?q=a", headers={"HX-Request": "true"}, follow_redirects=False)
    assert partial.status_code == 401
    assert partial.headers["HX-Redirect"].startswith("/login")


def test_login_page_is_public_and_wrong_password_is_refused(
    client: TestClient, users: dict[str, str]
) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="password"' in page.text
    token = csrf_of(client)
    response = client.post("/login", data={"username": "admin1", "password": "nope-nope", "csrf": token})
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_form_needs_the_csrf_token(client: TestClient, users: dict[str, str]) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "admin1", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_form_signs_in_and_follows_only_local_next(client: TestClient, users: dict[str, str]) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": "admin1", "password": PASSWORD, "csrf": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"


def test_logout_ends_the_session(client: TestClient, users: dict[str, str]) -> None:
    sign_in(client, "admin1")
    response = client.post("/logout", data={"csrf": csrf_of(client, "/")}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_dashboard_shows_the_store_counts_and_chart_data(client: TestClient, seeded: dict[str, int]) -> None:
    login(client, "analyst1")
    html = client.get("/").text
    figures = dict(re.findall(r'data-stat="(\w+)">\s*<div class="stat-label">[^<]*</div>\s*'
                              r'<div class="stat-value">([^<]*)</div>', html))  # fmt: skip
    assert figures == {
        "customers": "4",
        "orders": "4",
        "revenue": "1,215.00",
        "order_lines": "0",
        "products": "0",
    }
    assert 'id="monthly-chart"' in html
    data = re.search(r'<script type="application/json" id="monthly-data">(.*?)</script>', html, re.S)
    assert data is not None
    assert '"months": ["2026-01", "2026-02", "2026-03"]' in data.group(1)
    assert '"orders": [1, 2, 1]' in data.group(1)
    assert "analyst1" in html and "Analyst" in html


def test_dashboard_without_orders_says_so(client: TestClient, users: dict[str, str]) -> None:
    login(client, "admin1")
    html = client.get("/").text
    assert "No orders yet" in html
    assert 'id="monthly-chart"' not in html


def test_a_bad_parameter_on_a_page_gets_the_error_page_that_names_it(
    client: TestClient, users: dict[str, str]
) -> None:
    sign_in(client, users["admin"])
    page = client.get("/customers", params={"page": "second"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "page: " in page.text and "Back to the dashboard" in page.text
    api = client.get("/api/customers", params={"page": "second"})
    assert api.status_code == 422 and api.json()["error"]["data"]["errors"][0]["field"] == "page"


def test_sales_sees_masked_phone_and_email_on_list_and_360(
    client: TestClient, seeded: dict[str, int]
) -> None:
    login(client, "sales1")
    listing = client.get("/customers").text
    assert "138****1234" in listing and "a***@example.com" in listing
    assert "13812341234" not in listing and "alice@example.com" not in listing
    profile = client.get("/customers/C001").text
    assert "138****1234" in profile and "a***@example.com" in profile
    assert "13812341234" not in profile and "alice@example.com" not in profile
    assert "Personal data is masked for your role." in profile


def test_admin_sees_phone_and_email_in_full(client: TestClient, seeded: dict[str, int]) -> None:
    login(client, "admin1")
    listing = client.get("/customers").text
    assert "13812341234" in listing and "alice@example.com" in listing
    profile = client.get("/customers/C001").text
    assert "13812341234" in profile and "alice@example.com" in profile
    assert "masked for your role" not in profile


def test_customer_360_shows_orders_identities_and_timeline(
    client: TestClient, seeded: dict[str, int]
) -> None:
    login(client, "admin1")
    html = client.get("/customers/C001").text
    assert "Alice Wang" in html
    assert re.search(r'data-stat="order_count">.*?<div class="stat-value">2</div>', html, re.S)
    assert re.search(r'data-stat="total_spend">.*?<div class="stat-value">200.00</div>', html, re.S)
    assert "user_id" in html
    for title in ("O1", "O2", "R1"):
        assert f"<strong>{title}</strong>" in html
    assert "asked about &lt;b&gt;sizes&lt;/b&gt;" in html


def test_timeline_loads_more_in_pages(client: TestClient, stores: Stores, seeded: dict[str, int]) -> None:
    from tagora.core.auth import CLI_OPERATOR
    from tagora.profiles import logic
    from tagora.profiles.schemas import InteractionCreate

    for n in range(25):
        logic.add_interaction(
            stores.sessions, CLI_OPERATOR, "C002", InteractionCreate(kind="note", body=f"n{n}")
        )
    login(client, "admin1")
    first = client.get("/customers/C002").text
    assert first.count('class="timeline-item') == 20
    assert 'hx-get="/customers/C002/timeline?page=2"' in first
    second = client.get("/customers/C002/timeline?page=2", headers={"HX-Request": "true"}).text
    assert second.count('class="timeline-item') == 7  # 25 notes + 2 orders
    assert "<html" not in second and "Load more" not in second


def test_unknown_customer_is_a_404_page(client: TestClient, seeded: dict[str, int]) -> None:
    login(client, "admin1")
    response = client.get("/customers/NOPE")
    assert response.status_code == 404
    assert "Not found." in response.text and "<html" in response.text


def test_keys_with_a_slash_have_working_links(client: TestClient, seeded: dict[str, int]) -> None:
    login(client, "admin1")
    assert 'href="/customers/A%2FB%207"' in client.get("/customers?q=carol").text
    assert "Carol Slash" in client.get("/customers/A%2FB%207").text


def test_names_are_escaped(client: TestClient, seeded: dict[str, int]) -> None:
    login(client, "admin1")
    for path in ("/customers", "/customers/C003"):
        html = client.get(path).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_search_box_live_filters_with_a_partial(client: TestClient, seeded: dict[str, int]) -> None:
    login(client, "sales1")
    page = client.get("/customers").text
    assert 'hx-get="/partials/customers"' in page and 'hx-trigger="keyup changed delay:300ms' in page
    partial = client.get("/partials/customers?q=alice", headers={"HX-Request": "true"})
    assert partial.headers["HX-Replace-Url"] == "/customers?q=alice"
    assert "<html" not in partial.text
    assert "Alice Wang" in partial.text and "李娜" not in partial.text
    assert "1 customer" in partial.text
    assert "李娜" in client.get("/partials/customers?q=李").text
    assert "No customers match your search." in client.get("/partials/customers?q=zzz").text


def test_customer_list_is_paginated(client: TestClient, stores: Stores, users: dict[str, str]) -> None:
    from tagora.core.auth import CLI_OPERATOR
    from tagora.core.db import transaction
    from tagora.profiles import logic

    rows = [{"customer_key": f"K{n:03d}", "name": f"Person {n:03d}"} for n in range(45)]
    with transaction(stores.sessions) as session:
        logic.upsert_customers(session, CLI_OPERATOR, rows, "test")
    login(client, "admin1")
    first = client.get("/customers").text
    assert "Person 000" in first and "Person 020" not in first
    assert "Page 1 of 3" in first
    third = client.get("/customers?page=3").text
    assert "Person 040" in third and "Person 039" not in third
    assert 'hx-get="/partials/customers?q=&amp;page=2"' in third


def test_chinese_locale_renders_chinese_labels(client: TestClient, seeded: dict[str, int]) -> None:
    login(client, "sales1")
    token = csrf_of(client, "/")
    response = client.post(
        "/locale", data={"locale": "zh", "csrf": token, "next": "/customers"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/customers"
    listing = client.get("/customers").text
    assert '<html lang="zh-CN">' in listing
    for label in ("客户", "手机号", "邮箱", "销售", "退出登录", "4 位客户"):
        assert label in listing
    dashboard = client.get("/").text
    assert "月度销售额与订单数" in dashboard and "销售额" in dashboard
    assert client.get("/api/auth/me").json()["locale"] == "zh"
    profile = client.get("/customers/C001").text
    assert "2026年2月9日" in profile  # the last order, as a Chinese date


def test_login_page_follows_accept_language_and_the_chosen_language(
    client: TestClient, users: dict[str, str]
) -> None:
    assert "用户名" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).text
    assert "Username" in client.get("/login", headers={"Accept-Language": "fr-FR"}).text
    token = csrf_of(client)
    client.post("/locale", data={"locale": "zh", "csrf": token, "next": "/login"})
    assert "用户名" in client.get("/login").text
    sign_in(client, "marketer1")
    assert "营销人员" in client.get("/").text


def test_dates_are_shown_in_the_display_timezone(client: TestClient, seeded: dict[str, int]) -> None:
    client.app.state.stores.settings.display_timezone = "Asia/Shanghai"  # type: ignore[attr-defined]
    login(client, "admin1")
    html = client.get("/customers/C001").text
    assert "2/9/26, 5:30" in html  # 09:30 UTC is 17:30 in Shanghai


def test_static_assets_are_served_from_the_package(client: TestClient) -> None:
    assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
    assert client.get("/static/vendor/echarts/echarts.min.js").status_code == 200
    assert client.get("/static/css/console.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/../pages.py").status_code == 404


def test_console_routes_are_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p in paths for p in ("/", "/login", "/customers", "/partials/customers"))
