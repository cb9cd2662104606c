"""The script baseline of `shopbridge bench ingest`: what a developer would write to pull a
Union account's orders into SQLite. Plain urllib and sqlite3, the orders of each day read page by
page by update time, one `insert or replace` per order with its JSON, no history.

    python3 union_ingest.py SANDBOX_URL DB_PATH DAYS
"""
import hashlib, hmac, json, sqlite3, sys, time, urllib.parse, urllib.request

base, db_path, days = sys.argv[1].rstrip("/"), sys.argv[2], int(sys.argv[3])
get = lambda path: json.load(urllib.request.urlopen(base + path))
vop = get("/_sandbox/credentials")["vop"]
offset_ms = get("/_sandbox/clock")["offset_ms"]
db = sqlite3.connect(db_path)
db.execute("create table if not exists orders (order_sn text primary key, payload text)")


def order_list(start_ms, end_ms, page):
    body = json.dumps({"queryModel": {"page": page, "pageSize": 100, "requestId": str(page),
                                      "updateTimeStart": start_ms, "updateTimeEnd": end_ms}})
    params = {"appKey": vop["app_key"], "format": "json", "method": "orderList",
              "service": "com.vip.adp.api.open.service.UnionOrderService",
              "timestamp": str(int((time.time() * 1000 + offset_ms) / 1000)), "version": "1.0.0"}
    signed = "".join(k + v for k, v in sorted(params.items())) + body
    params["sign"] = hmac.new(vop["app_secret"].encode(), signed.encode(), hashlib.md5).hexdigest().upper()
    url = base + vop["gateway_path"] + "?" + urllib.parse.urlencode(params)
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    answer = json.load(urllib.request.urlopen(request))
    assert answer["returnCode"] == "0", answer
    return answer["result"]


now_ms = int(time.time() * 1000 + offset_ms)
stored = 0
for day in range(days, 0, -1):
    start, end, page = now_ms - day * 86_400_000, now_ms - (day - 1) * 86_400_000 - 1, 1
    while True:
        result = order_list(start, end, page)
        for order in result["orderInfoList"]:
            db.execute("insert or replace into orders values (?, ?)", (order["orderSn"], json.dumps(order)))
            stored += 1
        db.commit()
        if page * 100 >= result["total"]:
            break
        page += 1
print(stored)
