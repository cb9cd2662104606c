"""An ERP written against a client generated from the hub's OpenAPI document (openapi-python-client):
it lists its shops, pages through a shop's orders with the cursor, and ships one order.

Usage: round_trip.py BASE_URL APPKEY:APPSECRET (the generated package on PYTHONPATH).
Run by crates/shopbridge/tests/contract.rs against a live `shopbridge serve`.
"""

import sys

from shopbridge_hub_client import AuthenticatedClient
from shopbridge_hub_client.api.fulfilment import ship
from shopbridge_hub_client.api.orders import list_orders
from shopbridge_hub_client.api.shops import list_shops
from shopbridge_hub_client.models import Order, OrderPage, Problem, ShipmentRequest, ShopView
from shopbridge_hub_client.types import UNSET


def main() -> None:
    base_url, credentials = sys.argv[1], sys.argv[2]
    client = AuthenticatedClient(base_url=base_url, token=credentials)

    shops = list_shops.sync(client=client)
    assert isinstance(shops, list) and all(isinstance(s, ShopView) for s in shops), shops
    jit = next(shop for shop in shops if shop.platid == "9002")

    orders, cursor, pages = [], UNSET, 0
    while True:
        page = list_orders.sync(client=client, shop=jit.id, limit=2, cursor=cursor)
        assert isinstance(page, OrderPage), page
        assert all(isinstance(order, Order) for order in page.items), page
        orders.extend(page.items)
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    numbers = [order.plat_order_no for order in orders]
    assert len(numbers) == len(set(numbers)), "the cursor neither skips nor repeats"
    assert pages > 1, f"{len(orders)} orders in {pages} pages"

    waiting = next(order for order in orders if order.status == "JH_02")
    answer = ship.sync_detailed(
        client=client,
        body=ShipmentRequest(
            shop=jit.id,
            plat_order_no=waiting.plat_order_no,
            logistic_type="JH_014",
            logistic_no="SF20261129",
        ),
    )
    shipped = answer.parsed
    assert answer.status_code == 200, (answer.status_code, answer.content)
    assert not isinstance(shipped, Problem) and shipped is not None, shipped
    assert shipped.logistic_no == "SF20261129", shipped
    print(f"round trip: {len(shops)} shops, {len(orders)} orders in {pages} pages, shipped {waiting.plat_order_no}")


if __name__ == "__main__":
    main()
