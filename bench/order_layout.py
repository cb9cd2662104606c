"""What storing a Union order costs SQLite in each table layout, apart from any client: the same
100,000 orders (30 days, order numbers random within their day as the platform's are, 100-order
pages read from a day's last page down, about 750 bytes of JSON each) written as the hub writes
them: 16 KiB pages, WAL, synchronous NORMAL, up to 8 pages a transaction. Prints the
process CPU per order of each layout, less the CPU of building the same rows without writing them.

    python3 bench/order_layout.py [DB_PATH]
"""
import os, random, sqlite3, sys, time

ORDERS, PAGE, DAYS = 100_000, 100, 30
PAGES_A_COMMIT, PAGE_SIZE = 8, 16384  # the hub's `PageBatching` and `SQLITE_PAGE_SIZE`
SHOP = "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f"  # a shop id as the hub keys it: 36 characters
STAGES = ["已下单", "已付款", "已签收", "待结算", "已结算", "已失效"]
JSON = '{"orderSn":"%s","detail":"' + "x" * 700 + '"}'
path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/order_layout.db"

random.seed(1)
pages = []
for day in range(DAYS):
    count = ORDERS // DAYS
    numbers = ["2611%02d%010d" % (day, random.randrange(10**10)) for _ in range(count)]
    updates = sorted(day * 86_400_000 + random.randrange(86_400_000) for _ in range(count))
    orders = list(zip(numbers, updates))
    pages += [orders[i:i + PAGE] for i in range(0, count, PAGE)][::-1]


def rows_of(page, shop):
    rows = []
    for number, update in page:
        settled = random.random() < 0.4
        rows.append((shop, number, 2 if settled else 1, random.choice(STAGES), "pid", "", "1.23",
                     update, update, int(settled), update if settled else None, JSON % number, 1, 0))
    return rows


def layout(script=False, int_key=False, by_update=True, by_stage=True, lookup=True):
    for suffix in ["", "-wal", "-shm"]:
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    shop = 1 if int_key else SHOP
    if script:
        db.execute("CREATE TABLE o (order_sn TEXT PRIMARY KEY, payload TEXT)")
    else:
        db.execute(f"""CREATE TABLE o (connection_id {'INTEGER' if int_key else 'TEXT'} NOT NULL,
            order_sn TEXT NOT NULL, status BIGINT, sub_status TEXT, chan_tag TEXT, stat_param TEXT,
            commission TEXT, order_time_ms BIGINT, last_update_ms BIGINT, settled BIGINT,
            settled_ms BIGINT, payload TEXT, versions BIGINT, synced_ms BIGINT,
            PRIMARY KEY (connection_id, order_sn))""")
        db.execute("CREATE INDEX o_settled ON o (connection_id, settled_ms) WHERE settled_ms IS NOT NULL")
        if by_update:
            db.execute("CREATE INDEX o_update ON o (connection_id, last_update_ms, order_sn)")
        if by_stage:
            db.execute("CREATE INDEX o_stage ON o (connection_id, sub_status, last_update_ms, order_sn)")
    started = time.process_time()
    for n, page in enumerate(pages):
        if n % PAGES_A_COMMIT == 0:
            db.execute("BEGIN IMMEDIATE")
        if script:
            for number, _ in page:
                db.execute("INSERT OR REPLACE INTO o VALUES (?, ?)", (number, JSON % number))
        else:
            if lookup:
                db.execute("SELECT order_sn, last_update_ms, settled, chan_tag, stat_param FROM o"
                           " WHERE connection_id = ? AND order_sn IN (%s)" % ",".join("?" * len(page)),
                           [shop] + [number for number, _ in page]).fetchall()
            db.executemany("INSERT INTO o VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT"
                           " (connection_id, order_sn) DO UPDATE SET payload = excluded.payload",
                           rows_of(page, shop))
        if n % PAGES_A_COMMIT == PAGES_A_COMMIT - 1:
            db.execute("COMMIT")
    if db.in_transaction:
        db.execute("COMMIT")
    return time.process_time() - started


started = time.process_time()
for page in pages:
    rows_of(page, SHOP)
building = time.process_time() - started

print(f"SQLite {sqlite3.sqlite_version}, {ORDERS} orders, µs of CPU an order:")
for name, options, built in [
    ("the script's table (number, JSON)", dict(script=True), False),
    ("the hub's order row, key and settlement index", dict(by_update=False, by_stage=False), True),
    ("the hub's layout (+ change-time and sub-status indexes)", dict(), True),
    ("the hub's layout, integer shop key", dict(int_key=True), True),
    ("the hub's layout without the sub-status index", dict(by_stage=False), True),
]:
    # The script's layout is written by its own loop of one statement an order, which its
    # figure includes; the others' rows are built first, and that is taken off.
    spent = layout(**options) - (building if built else 0.0)
    print(f"  {name}: {spent / ORDERS * 1e6:.1f}")
for suffix in ["", "-wal", "-shm"]:
    if os.path.exists(path + suffix):
        os.remove(path + suffix)
