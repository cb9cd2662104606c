//! The store on SQLite and on PostgreSQL: the same behaviour on both.

use secrecy::{ExposeSecret, SecretString};
use shopbridge_store::{
    BrowseFilter, Browsed, Capped, Checkpoint, ConnectionState, Cursor, MasterKey, NewConnection,
    RecordFilter, Seek, Store, SyncedRecord, TimeField, UnionOrderRecord, Vault,
};

fn vault() -> Vault {
    Vault::new(MasterKey::from_bytes([42; 32]))
}

/// A fresh SQLite file and its path.
async fn sqlite() -> (Store, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("sb-store-{}.db", uuid::Uuid::new_v4()));
    let store = Store::open(&format!("sqlite://{}", path.display()), vault())
        .await
        .expect("sqlite store");
    (store, path)
}

/// A fresh, empty PostgreSQL database on the machine's server: its URL, and the admin pool and
/// name that [`drop_database`] takes.
async fn fresh_pg_database() -> (String, sqlx::AnyPool, String) {
    let admin_url = std::env::var("SHOPBRIDGE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&admin_url)
        .await
        .expect("PostgreSQL is running (see .ci/run)");
    let name = format!("sb_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create database");
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("unexpected URL {admin_url}"),
    };
    (url, admin, name)
}

/// A store on a fresh PostgreSQL database, and a way to drop it afterwards.
async fn postgres() -> (Store, sqlx::AnyPool, String) {
    let (url, admin, name) = fresh_pg_database().await;
    (
        Store::open(&url, vault()).await.expect("postgres store"),
        admin,
        name,
    )
}

async fn drop_database(admin: &sqlx::AnyPool, name: &str) {
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(admin)
        .await
        .expect("drop the test database");
}

/// Runs `check` on a store of a fresh PostgreSQL database, then drops the database.
async fn on_postgres(check: impl AsyncFnOnce(&Store)) {
    let (store, admin, name) = postgres().await;
    check(&store).await;
    store.pool().close().await;
    drop_database(&admin, &name).await;
}

/// Runs `check` on a fresh SQLite store, then removes its file.
async fn on_sqlite(check: impl AsyncFnOnce(&Store)) {
    let (store, path) = sqlite().await;
    check(&store).await;
    std::fs::remove_file(&path).ok();
}

/// A shop of a new tenant, for tests that need one to write records under.
async fn new_shop(store: &Store, name: &str, mode: &str) -> String {
    let secret = SecretString::from("s");
    let tenant = store
        .create_tenant(name, &format!("k-{}", uuid::Uuid::new_v4()), &secret, 0)
        .await
        .expect("tenant");
    store
        .create_connection(
            &NewConnection {
                tenant_id: &tenant,
                kind: shopbridge_core::ShopKind::from_stored("vop", mode).expect("kind"),
                name,
                credentials: &secret,
                access_expires_ms: None,
                refresh_expires_ms: None,
            },
            0,
        )
        .await
        .expect("shop")
}

/// Saves `orders` as one page of `shop`'s Union orders (no checkpoint to speak of, no
/// announcements); returns how many it inserted or replaced.
async fn save_union_page(store: &Store, shop: &str, orders: &[UnionOrderRecord]) -> usize {
    store
        .save_page(
            shop,
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(orders.to_vec()),
            Checkpoint {
                cursor_ms: 0,
                window: None,
            },
            None,
            0,
        )
        .await
        .expect("save")
}

fn order(sn: &str, update: i64, stage: &str, settled: bool) -> UnionOrderRecord {
    UnionOrderRecord {
        order_sn: sn.into(),
        status: if settled { 2 } else { 1 },
        sub_status: Some(stage.into()),
        chan_tag: Some("pid".into()),
        stat_param: None,
        commission: Some("1.23".into()),
        order_time_ms: 1,
        last_update_ms: update,
        settled,
        settled_ms: settled.then_some(update),
        payload: format!(r#"{{"orderSn":"{sn}","lastUpdateTime":{update}}}"#),
    }
}

async fn exercise(store: &Store) {
    let secret = SecretString::from("tenant-secret-value-9z");
    let tenant = store
        .create_tenant("erp", "erp-key", &secret, 10)
        .await
        .expect("tenant");
    let (found, opened) = store
        .tenant_by_app_key("erp-key")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (found.as_str(), opened.expose_secret()),
        (tenant.as_str(), "tenant-secret-value-9z")
    );
    assert!(
        store
            .tenant_by_app_key("nope")
            .await
            .expect("lookup")
            .is_none()
    );

    let credentials = SecretString::from(
        r#"{"access_token":"ACCESS-TOKEN-VALUE-77","refresh_token":"REFRESH-TOKEN-VALUE-88"}"#,
    );
    let id = store
        .create_connection(
            &NewConnection {
                tenant_id: &tenant,
                kind: shopbridge_core::ShopKind::VopUnionTool,
                name: "shop",
                credentials: &credentials,
                access_expires_ms: Some(1000),
                refresh_expires_ms: Some(2000),
            },
            10,
        )
        .await
        .expect("connection");
    let connection = store.connection(&id).await.expect("read");
    assert_eq!(
        connection.credentials.expose_secret(),
        credentials.expose_secret()
    );
    assert_eq!(connection.state, ConnectionState::Active);
    store
        .set_state(&id, ConnectionState::Refreshing, None, 11)
        .await
        .expect("refreshing");
    store
        .set_state(
            &id,
            ConnectionState::NeedsReauth,
            Some("30111 access token expired"),
            12,
        )
        .await
        .expect("needs reauth");
    let wrong = store
        .set_state(&id, ConnectionState::Refreshing, None, 13)
        .await
        .expect_err("not allowed");
    assert!(
        wrong
            .to_string()
            .contains("needs_reauth cannot become refreshing")
    );
    let read = store.connection(&id).await.expect("read");
    assert_eq!(
        read.last_error.as_deref(),
        Some("30111 access token expired")
    );
    let events = store.connection_events(&id).await.expect("events");
    assert_eq!(events.len(), 3);
    assert_eq!(
        (events[2].0.as_str(), events[2].1.as_str()),
        ("refreshing", "needs_reauth")
    );

    let page = [
        order("A", 100, "已下单", false),
        order("B", 100, "已下单", false),
    ];
    let checkpoint = Checkpoint {
        cursor_ms: 0,
        window: Some((0, 1000, 2)),
    };
    assert_eq!(
        store
            .save_page(
                &id,
                "union_orders",
                &shopbridge_store::PageRecords::UnionOrders(page.to_vec()),
                checkpoint,
                None,
                20
            )
            .await
            .expect("page"),
        2
    );
    assert_eq!(
        store.checkpoint(&id, "union_orders").await.expect("cp"),
        Some(checkpoint)
    );
    // A newer version replaces, an older one does not, a settled one is final.
    let later = [
        order("A", 200, "已结算", true),
        order("B", 50, "已失效", false),
    ];
    assert_eq!(
        store
            .save_page(
                &id,
                "union_orders",
                &shopbridge_store::PageRecords::UnionOrders(later.to_vec()),
                Checkpoint {
                    cursor_ms: 1000,
                    window: None
                },
                None,
                21
            )
            .await
            .expect("page"),
        1
    );
    let stale = [order("A", 300, "已失效", false)];
    assert_eq!(
        store
            .save_page(
                &id,
                "union_orders",
                &shopbridge_store::PageRecords::UnionOrders(stale.to_vec()),
                Checkpoint {
                    cursor_ms: 1000,
                    window: None
                },
                None,
                22
            )
            .await
            .expect("page"),
        0
    );
    // Two versions of one order in the same page (a status change between two page reads):
    // the newest is the order's row, the older one history (two versions in all), and neither
    // backend trips over the repeat.
    let repeated = [
        order("C", 100, "已下单", false),
        order("C", 150, "已付款", false),
        order("C", 150, "已付款", false),
    ];
    assert_eq!(
        store
            .save_page(
                &id,
                "union_orders",
                &shopbridge_store::PageRecords::UnionOrders(repeated.to_vec()),
                Checkpoint {
                    cursor_ms: 1000,
                    window: None
                },
                None,
                23
            )
            .await
            .expect("page with a repeated order"),
        2
    );
    assert_eq!(
        store
            .union_order_history_len(&id, "C")
            .await
            .expect("history"),
        2
    );
    let stored = store.union_orders(&id).await.expect("orders");
    assert_eq!(
        (stored[2].0.as_str(), stored[2].1.as_deref(), stored[2].3),
        ("C", Some("已付款"), 150)
    );
    let stored = &stored[..2];
    assert_eq!(stored.len(), 2);
    assert_eq!((stored[0].1.as_deref(), stored[0].3), (Some("已结算"), 200));
    assert_eq!((stored[1].1.as_deref(), stored[1].3), (Some("已下单"), 100));
    assert_eq!(
        store
            .union_order_history_len(&id, "A")
            .await
            .expect("history"),
        2
    );
    assert_eq!(
        store.checkpoint(&id, "union_orders").await.expect("cp"),
        Some(Checkpoint {
            cursor_ms: 1000,
            window: None
        })
    );

    // Other streams' records: newest kept, final never replaced, unchanged content not a new
    // version, a record repeated within a page counted once per distinct version.
    let record = |id: &str, updated_ms: i64, is_final: bool, body: &str| SyncedRecord {
        id: id.into(),
        updated_ms,
        is_final,
        payload: format!(r#"{{"id":"{id}","body":"{body}"}}"#),
        columns: Default::default(),
    };
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    let first = [
        record("R1", 10, false, "a"),
        record("R1", 20, false, "b"),
        record("R2", 10, false, "a"),
        record("R2", 10, false, "a"),
    ];
    let saved = store
        .save_page(
            &id,
            "jit_orders",
            &shopbridge_store::PageRecords::Records(first.to_vec()),
            cp,
            None,
            40,
        )
        .await
        .expect("records page");
    assert_eq!(saved, 3, "R1 twice, R2 once");
    let later = [
        record("R1", 20, false, "b"),
        record("R1", 15, false, "older"),
        record("R2", 30, true, "final"),
    ];
    let saved = store
        .save_page(
            &id,
            "jit_orders",
            &shopbridge_store::PageRecords::Records(later.to_vec()),
            cp,
            None,
            41,
        )
        .await
        .expect("records page");
    assert_eq!(saved, 1, "only R2's final version is new");
    let after_final = [record("R2", 40, false, "after")];
    let saved = store
        .save_page(
            &id,
            "jit_orders",
            &shopbridge_store::PageRecords::Records(after_final.to_vec()),
            cp,
            None,
            42,
        )
        .await
        .expect("records page");
    assert_eq!(saved, 0, "a final record is never replaced");
    let records = store
        .synced_records(&id, "jit_orders")
        .await
        .expect("records");
    let summary: Vec<(&str, i64, bool, i64)> = records
        .iter()
        .map(|r| {
            (
                r.record.id.as_str(),
                r.record.updated_ms,
                r.record.is_final,
                r.versions,
            )
        })
        .collect();
    assert_eq!(summary, [("R1", 20, false, 2), ("R2", 30, true, 2)]);
    assert_eq!(
        store
            .synced_record_versions(&id, "jit_orders", "R1")
            .await
            .expect("versions")
            .len(),
        2
    );

    // A webhook for every event gets each kind, including Union order changes, once per new
    // version, in the page's own transaction.
    let hook = store
        .create_webhook(
            &tenant,
            "http://127.0.0.1:9/h",
            &[],
            &SecretString::from("k"),
            50,
        )
        .await
        .expect("webhook");
    let listed = store.webhooks(&tenant).await.expect("webhooks");
    assert_eq!(
        listed[0].events,
        shopbridge_store::webhooks::EVENTS
            .iter()
            .map(|e| (*e).to_owned())
            .collect::<Vec<_>>()
    );
    let events = Some(shopbridge_store::RecordEvents {
        created: "union_order.created",
        updated: "union_order.updated",
    });
    let announced = [
        order("D", 100, "已下单", false),
        order("A", 400, "已失效", false),
    ];
    store
        .save_page(
            &id,
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(announced.to_vec()),
            checkpoint,
            events,
            51,
        )
        .await
        .expect("page");
    let delivered: Vec<String> = store
        .webhook_deliveries(&tenant, &hook, 10)
        .await
        .expect("deliveries")
        .into_iter()
        .map(|(delivery, _)| delivery.event)
        .collect();
    assert_eq!(
        delivered,
        ["union_order.created"],
        "D is new; A is settled, so its later data is not a change"
    );

    // Rotation: a vault with a new current key and the old one re-seals everything.
    let rotated = store.with_vault(
        Vault::new(MasterKey::from_bytes([43; 32])).with_old_key(MasterKey::from_bytes([42; 32])),
    );
    assert_eq!(
        rotated.rotate_keys().await.expect("rotate"),
        3,
        "two connections' credentials and the webhook's signing secret"
    );
    assert_eq!(
        rotated.rotate_keys().await.expect("again"),
        0,
        "nothing left under the old key"
    );
    let only_new = store.with_vault(Vault::new(MasterKey::from_bytes([43; 32])));
    assert_eq!(
        only_new
            .connection(&id)
            .await
            .expect("read")
            .credentials
            .expose_secret(),
        credentials.expose_secret()
    );
    let only_old = store.with_vault(vault());
    assert!(
        only_old.connection(&id).await.is_err(),
        "the old key alone no longer opens it"
    );

    let run = store.start_run(&id, "union_orders", 30).await.expect("run");
    store
        .finish_run(run, "complete", 3, 2, None, 31)
        .await
        .expect("finish");
    store
        .audit(32, Some(&tenant), Some(&id), "sync", "ok")
        .await
        .expect("audit");
}

#[tokio::test]
async fn sqlite_store_and_no_secret_in_the_file() {
    let (store, path) = sqlite().await;
    exercise(&store).await;
    store.pool().close().await;
    let mut bytes = std::fs::read(&path).expect("db file");
    for suffix in ["-wal", "-shm"] {
        if let Ok(more) = std::fs::read(format!("{}{suffix}", path.display())) {
            bytes.extend(more);
        }
    }
    for secret in [
        "tenant-secret-value-9z",
        "ACCESS-TOKEN-VALUE-77",
        "REFRESH-TOKEN-VALUE-88",
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the database file"
        );
    }
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn postgres_store() {
    on_postgres(exercise).await;
}

#[tokio::test]
async fn bad_urls_are_explained_without_passwords() {
    let err = Store::open("mysql://user:hunter2@db/x", vault())
        .await
        .expect_err("unsupported");
    let text = err.to_string();
    assert!(
        text.contains("sqlite:// or postgres://") && !text.contains("hunter2"),
        "{text}"
    );
}

#[tokio::test]
async fn every_sqlite_connection_enforces_foreign_keys_and_syncs_at_wal_normal() {
    let (store, path) = sqlite().await;
    // Ask on a connection of the pool's own making each time: these settings are per connection.
    for _ in 0..2 {
        let mut conn = store.pool().acquire().await.expect("connection");
        let keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .expect("foreign_keys");
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .expect("synchronous");
        assert_eq!(
            (keys, synchronous),
            (1, 1),
            "foreign_keys ON, synchronous NORMAL"
        );
        conn.detach();
    }
    let _ = std::fs::remove_file(path);
}

/// A webhook created for every event before `union_order.*` existed stored the list of the
/// time; the upgrade turns it into "every event", so it gets the new ones too.
#[tokio::test]
async fn webhooks_for_every_event_get_events_added_later() {
    let path = std::env::temp_dir().join(format!("sb-upgrade-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    sqlx::any::install_default_drivers();
    {
        // The schema as it was before the upgrade, with such a webhook in it.
        let pool = sqlx::AnyPool::connect(&url).await.expect("pool");
        let mut earlier = sqlx::migrate::Migrator::new(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/sqlite"
        )))
        .await
        .expect("migrations");
        earlier.migrations = earlier
            .migrations
            .iter()
            .filter(|m| m.version < 11)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        earlier.run(&pool).await.expect("earlier schema");
        // Sealed (in name) under the key the upgraded store opens with.
        let key_id = vault().current_key_id().to_owned();
        sqlx::query("INSERT INTO tenants (id, name, app_key, key_id, secret_ct, created_ms) VALUES ('t1', 't', 'k', $1, x'00', 0)")
            .bind(&key_id)
            .execute(&pool)
            .await
            .expect("tenant");
        sqlx::query("INSERT INTO webhooks (id, tenant_id, url, events, key_id, secret_ct, enabled, disabled_reason, failed_in_a_row, created_ms)
             VALUES ('h1', 't1', 'http://127.0.0.1:9/h', 'order.created,order.updated,refund.changed,connection.needs_reauth,sync.failed', $1, x'00', 1, NULL, 0, 0)")
            .bind(&key_id)
            .execute(&pool)
            .await
            .expect("webhook");
        pool.close().await;
    }
    let store = Store::open(&url, vault()).await.expect("upgraded");
    let hooks = store.webhooks("t1").await.expect("webhooks");
    assert!(
        hooks[0].events.iter().any(|e| e == "union_order.updated"),
        "{:?}",
        hooks[0].events
    );
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A database migrated only up to (not including) the query columns, as an earlier version of
/// the hub left it: the first twelve migrations, copied from the crate's directory.
async fn migrated_before_query_columns(url: &str, backend: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let older = std::env::temp_dir().join(format!("sb-migrations-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&older).expect("dir");
    let mut names: Vec<_> = std::fs::read_dir(&source)
        .expect("migrations")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    names.sort();
    for name in names.iter().take(12) {
        std::fs::copy(source.join(name), older.join(name)).expect("copy");
    }
    let pool = sqlx::AnyPool::connect(url).await.expect("connect");
    sqlx::migrate::Migrator::new(older.as_path())
        .await
        .expect("migrator")
        .run(&pool)
        .await
        .expect("older migrations");
    std::fs::remove_dir_all(&older).ok();
    pool
}

/// Rows written before the query columns existed get theirs from their JSON, and the indexed
/// reads find them.
async fn old_rows_get_query_columns(url: &str, backend: &str) {
    let pool = migrated_before_query_columns(url, backend).await;
    sqlx::query("INSERT INTO tenants (id, name, app_key, key_id, secret_ct, created_ms) VALUES ('t', 't', 'k', $1, $2, 0)")
        .bind(vault().current_key_id().to_owned())
        .bind(vec![0_u8])
        .execute(&pool)
        .await
        .expect("tenant");
    sqlx::query("INSERT INTO connections (id, tenant_id, platform, mode, name, state, created_ms, updated_ms) VALUES ('c', 't', 'vop', 'jit', 'shop', 'active', 0, 0)")
        .execute(&pool)
        .await
        .expect("connection");
    let order = r#"{"plat_order_no":"O1","status":"JH_02","created_at_ms":1000,"modified_at_ms":2000,"total_amount":"12.50","lines":[{"refund_status":"JH_07"},{"refund_status":"JH_01"}]}"#;
    let quiet = r#"{"plat_order_no":"O2","status":"JH_05","created_at_ms":1500,"modified_at_ms":2500,"total_amount":"3","lines":[{"refund_status":"JH_07"}]}"#;
    let product =
        r#"{"plat_product_id":"P1","name":"红色杯子 mug","outer_id":"CUP-1","on_sale":true}"#;
    let refund = r#"{"orderSn":"U1","afterSaleSn":"A1","applyTime":500,"commissionEnterTime":3000,"commission":"-1.20"}"#;
    for (stream, id, updated, payload) in [
        ("jit_orders", "O1", 2000, order),
        ("jit_orders", "O2", 2500, quiet),
        ("products", "P1", 10, product),
        ("union_refunds", "A1", 3000, refund),
        // Not JSON at all: left without columns rather than failing the migration.
        ("winit_outbound", "W1", 1, ""),
    ] {
        sqlx::query("INSERT INTO synced_records (connection_id, stream, record_id, updated_ms, final, payload, versions, synced_ms) VALUES ('c', $1, $2, $3, 0, $4, 1, 0)")
            .bind(stream)
            .bind(id)
            .bind(updated as i64)
            .bind(payload)
            .execute(&pool)
            .await
            .expect("record");
    }
    sqlx::query("INSERT INTO union_orders (connection_id, order_sn, status, chan_tag, commission, order_time_ms, last_update_ms, settled, payload, versions, synced_ms) VALUES ('c', 'U1', 2, 'pid-1', '8.80', 1, 4500, 1, $1, 1, 0)")
        .bind(r#"{"orderSn":"U1","settledTime":4000}"#)
        .execute(&pool)
        .await
        .expect("union order");
    // Earlier writers kept an order's current version in its history as well: with its JSON
    // (U1), or '' once the order's row held it (U2, whose older version is there in full).
    sqlx::query("INSERT INTO union_orders (connection_id, order_sn, status, commission, order_time_ms, last_update_ms, settled, payload, versions, synced_ms) VALUES ('c', 'U2', 1, '1.00', 1, 200, 0, $1, 2, 0)")
        .bind(r#"{"orderSn":"U2","v":200}"#)
        .execute(&pool)
        .await
        .expect("union order");
    for (order_sn, update, payload) in [
        ("U1", 4500, r#"{"orderSn":"U1","settledTime":4000}"#),
        ("U2", 100, r#"{"orderSn":"U2","v":100}"#),
        ("U2", 200, ""),
    ] {
        sqlx::query("INSERT INTO union_order_history (connection_id, order_sn, last_update_ms, payload) VALUES ('c', $1, $2, $3)")
            .bind(order_sn)
            .bind(update as i64)
            .bind(payload)
            .execute(&pool)
            .await
            .expect("history");
    }
    pool.close().await;

    let store = Store::open(url, vault()).await.expect("migrated");
    // Each version is listed once; the current one comes from the order's row.
    let updates = |order_sn: &'static str| {
        let store = store.clone();
        async move {
            store
                .union_order_versions("c", order_sn)
                .await
                .expect("versions")
                .into_iter()
                .map(|(update, _, _)| update)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(updates("U1").await, vec![4500]);
    assert_eq!(updates("U2").await, vec![100, 200]);
    // A newer version moves the row's JSON into the history.
    store
        .save_page(
            "c",
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(vec![self::order(
                "U2",
                300,
                "已付款",
                false,
            )]),
            Checkpoint {
                cursor_ms: 0,
                window: None,
            },
            None,
            0,
        )
        .await
        .expect("a newer version");
    assert_eq!(updates("U2").await, vec![100, 200, 300]);
    let history: Vec<(i64, String)> = sqlx::query_as(
        "SELECT last_update_ms, payload FROM union_order_history WHERE connection_id = 'c' AND order_sn = 'U2' ORDER BY last_update_ms",
    )
    .fetch_all(store.pool())
    .await
    .expect("history");
    assert_eq!(
        history,
        vec![
            (100, r#"{"orderSn":"U2","v":100}"#.to_owned()),
            (200, r#"{"orderSn":"U2","v":200}"#.to_owned())
        ]
    );
    // A writer from before 0020 still running adds a history row of the current version (''):
    // the version is not listed twice, and keeps its JSON once a newer one replaces it.
    sqlx::query("INSERT INTO union_order_history (connection_id, order_sn, last_update_ms, payload) VALUES ('c', 'U2', 300, '')")
        .execute(store.pool())
        .await
        .expect("an older writer's row");
    assert_eq!(updates("U2").await, vec![100, 200, 300]);
    assert_eq!(
        store.union_order_history_len("c", "U2").await.expect("len"),
        3
    );
    store
        .save_page(
            "c",
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(vec![self::order(
                "U2",
                400,
                "已签收",
                false,
            )]),
            Checkpoint {
                cursor_ms: 0,
                window: None,
            },
            None,
            0,
        )
        .await
        .expect("a newer version");
    assert_eq!(updates("U2").await, vec![100, 200, 300, 400]);
    let replaced: String = sqlx::query_scalar(
        "SELECT payload FROM union_order_history WHERE connection_id = 'c' AND order_sn = 'U2' AND last_update_ms = 300",
    )
    .fetch_one(store.pool())
    .await
    .expect("replaced version");
    assert_eq!(replaced, self::order("U2", 300, "", false).payload);
    let find = |filter: RecordFilter, stream: &'static str| {
        let store = store.clone();
        async move {
            let (total, rows) = store
                .find_records("c", stream, &filter, 0, 10)
                .await
                .expect("find");
            (
                total,
                rows.into_iter().map(|r| r.record.id).collect::<Vec<_>>(),
            )
        }
    };
    let created = RecordFilter {
        time: Some((TimeField::Created, 900, 1200)),
        ..RecordFilter::default()
    };
    assert_eq!(
        find(created, "jit_orders").await,
        (1, vec!["O1".to_owned()])
    );
    let waiting = RecordFilter {
        time: Some((TimeField::Updated, 0, 9999)),
        status: Some("JH_02".into()),
        ..RecordFilter::default()
    };
    assert_eq!(
        find(waiting, "jit_orders").await,
        (1, vec!["O1".to_owned()])
    );
    let refunding = RecordFilter {
        has_refund: true,
        ..RecordFilter::default()
    };
    assert_eq!(
        find(refunding, "jit_orders").await,
        (1, vec!["O1".to_owned()])
    );
    let stored = store
        .synced_record("c", "jit_orders", "O1")
        .await
        .expect("read")
        .expect("O1");
    assert_eq!(stored.record.columns.amount.as_deref(), Some("12.50"));
    for filter in [
        RecordFilter {
            id_or_alt_id: Some("CUP-1".into()),
            ..RecordFilter::default()
        },
        RecordFilter {
            title_contains: Some("杯子".into()),
            status: Some("JH_01".into()),
            ..RecordFilter::default()
        },
    ] {
        assert_eq!(find(filter, "products").await, (1, vec!["P1".to_owned()]));
    }
    let off_sale = RecordFilter {
        status: Some("JH_02".into()),
        ..RecordFilter::default()
    };
    assert_eq!(find(off_sale, "products").await, (0, vec![]));
    let mut settled = Vec::new();
    store
        .each_settled_union_order("c", 0, 10_000, |order| settled.push(order))
        .await
        .expect("settled");
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].settled_ms, 4000);
    let refunds = store
        .booked_refund_sums("c", "union_refunds", 0, 10_000)
        .await
        .expect("refunds");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].day_ms, shopbridge_store::beijing_day(3000));
    assert_eq!(refunds[0].refunds, 1);
    assert_eq!(
        refunds[0].deduction.to_string(),
        "1.20",
        "the size of the deduction"
    );
    assert_eq!(
        refunds[0].order,
        Some((Some("pid-1".to_owned()), None)),
        "a refund is keyed by its order's tags"
    );
    assert!(
        store
            .booked_refund_sums("c", "union_refunds", 3001, 10_000)
            .await
            .expect("none")
            .is_empty(),
        "the period's start is inclusive and its end exclusive"
    );
    // The refunds' daily sums were filled from the refunds already stored.
    let kept = store
        .refund_days("c", shopbridge_store::beijing_day(3000), 86_400_000)
        .await
        .expect("kept refund sums");
    assert_eq!(kept, refunds, "the kept sums start as the refunds' own");
    // So were the records' hourly counts: a window of whole hours is counted from them.
    let whole_hours = RecordFilter {
        time: Some((TimeField::Updated, 0, 2 * 3_600_000 - 1)),
        status: Some("JH_02".into()),
        ..RecordFilter::default()
    };
    assert_eq!(
        store
            .find_records("c", "jit_orders", &whole_hours, 0, 10)
            .await
            .expect("counted")
            .0,
        1
    );
    let created_hours = RecordFilter {
        time: Some((TimeField::Created, 0, 2 * 3_600_000 - 1)),
        ..RecordFilter::default()
    };
    assert_eq!(
        store
            .find_records("c", "jit_orders", &created_hours, 0, 10)
            .await
            .expect("counted")
            .0,
        2
    );
    // A new version of a refund stored before moves its share from where the migration put it.
    let later = SyncedRecord {
        id: "A1".into(),
        updated_ms: 4000,
        is_final: false,
        payload: r#"{"orderSn":"U1","afterSaleSn":"A1","commission":"-2.50"}"#.into(),
        columns: shopbridge_store::RecordColumns {
            booked_ms: Some(86_400_000),
            parent_id: Some("U1".into()),
            amount: Some("-2.50".into()),
            ..Default::default()
        },
    };
    store
        .save_page(
            "c",
            "union_refunds",
            &shopbridge_store::PageRecords::Records(vec![later]),
            Checkpoint {
                cursor_ms: 0,
                window: None,
            },
            None,
            0,
        )
        .await
        .expect("a later version");
    let from = shopbridge_store::beijing_day(3000);
    let to = from + 3 * 86_400_000;
    assert_eq!(
        store.refund_days("c", from, to).await.expect("kept"),
        store
            .booked_refund_sums("c", "union_refunds", from, to)
            .await
            .expect("summed"),
    );
    assert_eq!(
        store.refund_days("c", from, to).await.expect("kept")[0]
            .deduction
            .to_string(),
        "2.50"
    );
    // The hourly sums too were filled from the orders already settled.
    let hours = store.settled_hours("c", 0, 3_600_000).await.expect("hours");
    assert_eq!(hours.len(), 1);
    assert_eq!((hours[0].day_ms, hours[0].orders), (0, 1));
    // The daily sums were filled from the orders already settled.
    let day = shopbridge_store::beijing_day(4000);
    let sums = store
        .settled_days("c", day, day + 86_400_000)
        .await
        .expect("sums");
    assert_eq!(sums.len(), 1);
    assert_eq!(
        (
            sums[0].chan_tag.as_deref(),
            sums[0].orders,
            sums[0].commission.to_string()
        ),
        (Some("pid-1"), 1, "8.80".to_owned())
    );
    let mut outside = 0;
    store
        .each_settled_union_order("c", 4001, 10_000, |_| outside += 1)
        .await
        .expect("settled");
    assert_eq!(
        outside, 0,
        "the period's end is exclusive and its start inclusive"
    );
    store.pool().close().await;
}

#[tokio::test]
async fn sqlite_rows_from_before_the_query_columns_get_them() {
    let path = std::env::temp_dir().join(format!("sb-backfill-{}.db", uuid::Uuid::new_v4()));
    old_rows_get_query_columns(&format!("sqlite://{}?mode=rwc", path.display()), "sqlite").await;
    std::fs::remove_file(&path).ok();
}

#[tokio::test]
async fn postgres_rows_from_before_the_query_columns_get_them() {
    let (url, admin, name) = fresh_pg_database().await;
    old_rows_get_query_columns(&url, "postgres").await;
    drop_database(&admin, &name).await;
}

/// Browsing pages newest first walks every record once, both ways, with a capped count.
async fn browsing_walks_every_record_once(store: &Store) {
    let shop = new_shop(store, "browse", "jit").await;
    // 23 records, several sharing an update time, so that ties are broken by id.
    let records: Vec<SyncedRecord> = (0..23)
        .map(|n| SyncedRecord {
            id: format!("N{n:03}"),
            updated_ms: 1_000 + (n / 3) as i64,
            is_final: false,
            payload: "{}".into(),
            columns: shopbridge_store::RecordColumns {
                status: Some(if n % 2 == 0 { "JH_02" } else { "JH_04" }.into()),
                ..Default::default()
            },
        })
        .collect();
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    store
        .save_page(
            &shop,
            "jit_orders",
            &shopbridge_store::PageRecords::Records(records.to_vec()),
            cp,
            None,
            0,
        )
        .await
        .expect("save");
    let ids = |page: &Browsed<shopbridge_store::StoredRecord>| {
        page.rows
            .iter()
            .map(|r| r.record.id.clone())
            .collect::<Vec<_>>()
    };
    let mut seen = Vec::new();
    let mut seek = Seek::Newest;
    loop {
        let page = store
            .browse_records(&shop, "jit_orders", &BrowseFilter::default(), &seek, 5, 10)
            .await
            .expect("page");
        assert_eq!(page.matching, Capped::MoreThan(10));
        seen.extend(ids(&page));
        match page.rows.last() {
            Some(last) if page.rows.len() == 5 => seek = Seek::Older(last.cursor()),
            _ => break,
        }
    }
    let mut expected: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, ties by id, each once");
    // Back up from the oldest page.
    let oldest = store
        .browse_records(
            &shop,
            "jit_orders",
            &BrowseFilter::default(),
            &Seek::Oldest,
            5,
            100,
        )
        .await
        .expect("oldest");
    assert_eq!(ids(&oldest), expected[18..].to_vec());
    assert_eq!(oldest.matching, Capped::Exactly(23));
    let newer = store
        .browse_records(
            &shop,
            "jit_orders",
            &BrowseFilter::default(),
            &Seek::Newer(oldest.rows[0].cursor()),
            5,
            100,
        )
        .await
        .expect("newer");
    assert_eq!(ids(&newer), expected[13..18].to_vec());
    // A prefix is a range of ids.
    let prefixed = store
        .browse_records(
            &shop,
            "jit_orders",
            &BrowseFilter {
                id_prefix: Some("N01".into()),
                ..BrowseFilter::default()
            },
            &Seek::Newest,
            50,
            100,
        )
        .await
        .expect("prefix");
    assert_eq!(prefixed.matching, Capped::Exactly(10));
    assert!(ids(&prefixed).iter().all(|id| id.starts_with("N01")));
    // A status and a change-time range narrow the list; paging still walks it once.
    let filter = BrowseFilter {
        status: Some("JH_02".into()),
        updated_from_ms: Some(1_002),
        updated_to_ms: Some(1_006),
        ..BrowseFilter::default()
    };
    let mut seen = Vec::new();
    let mut seek = Seek::Newest;
    loop {
        let page = store
            .browse_records(&shop, "jit_orders", &filter, &seek, 2, 100)
            .await
            .expect("filtered");
        assert_eq!(page.matching, Capped::Exactly(6));
        seen.extend(ids(&page));
        match page.rows.last() {
            Some(last) if page.rows.len() == 2 => seek = Seek::Older(last.cursor()),
            _ => break,
        }
    }
    let expected: Vec<String> = (6..18)
        .rev()
        .filter(|n| n % 2 == 0)
        .map(|n| format!("N{n:03}"))
        .collect();
    assert_eq!(seen, expected, "JH_02 records changed in [1002, 1006)");
}

#[tokio::test]
async fn sqlite_browsing() {
    on_sqlite(browsing_walks_every_record_once).await;
}

#[tokio::test]
async fn postgres_browsing() {
    on_postgres(browsing_walks_every_record_once).await;
}

/// The daily sums count each settled order once, on its Beijing day, under its tags, whatever
/// the pages and versions it arrived in; unsettled orders are not in them.
async fn daily_sums_count_each_settled_order_once(store: &Store) {
    let shop = new_shop(store, "sums", "union_channel").await;
    let day = 86_400_000_i64;
    let base = shopbridge_store::beijing_day(1_764_000_000_000);
    let order = |n: i64, update: i64, settled_at: Option<i64>, tag: &str| UnionOrderRecord {
        order_sn: format!("S{n}"),
        status: 2,
        sub_status: None,
        chan_tag: Some(tag.into()),
        stat_param: None,
        commission: Some(format!("{}.{:02}", n, n % 100)),
        order_time_ms: 1,
        last_update_ms: update,
        settled: settled_at.is_some(),
        settled_ms: settled_at,
        payload: "{}".into(),
    };
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    // Page 1: S1 unsettled; S2 settled on day 0 late in the evening (Beijing), S3 on day 1.
    let first = [
        order(1, 10, None, "a"),
        order(2, 10, Some(base + day - 60_000), "a"),
        order(3, 10, Some(base + day + 1), "b"),
    ];
    store
        .save_page(
            &shop,
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(first.to_vec()),
            cp,
            None,
            0,
        )
        .await
        .expect("page 1");
    // Page 2: S1 settles on day 1; S2 seen again (settled: final, not counted twice); S1 twice
    // in one page.
    let second = [
        order(1, 20, Some(base + day + 5), "a"),
        order(2, 30, Some(base + day - 60_000), "a"),
        order(1, 25, Some(base + day + 5), "a"),
    ];
    store
        .save_page(
            &shop,
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(second.to_vec()),
            cp,
            None,
            0,
        )
        .await
        .expect("page 2");
    let mut sums = store
        .settled_days(&shop, base, base + 2 * day)
        .await
        .expect("sums");
    sums.sort_by(|a, b| (a.day_ms, &a.chan_tag).cmp(&(b.day_ms, &b.chan_tag)));
    let seen: Vec<(i64, Option<&str>, i64, String)> = sums
        .iter()
        .map(|s| {
            (
                s.day_ms - base,
                s.chan_tag.as_deref(),
                s.orders,
                s.commission.to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (0, Some("a"), 1, "2.02".to_owned()),
            (day, Some("a"), 1, "1.01".to_owned()),
            (day, Some("b"), 1, "3.03".to_owned()),
        ]
    );
    assert!(
        store
            .settled_days(&shop, base + 2 * day, base + 3 * day)
            .await
            .expect("none")
            .is_empty()
    );
    // The hourly sums hold the same orders, each in its own hour, once.
    let mut hours = store
        .settled_hours(&shop, base, base + 2 * day)
        .await
        .expect("hours");
    hours.sort_by(|a, b| (a.day_ms, &a.chan_tag).cmp(&(b.day_ms, &b.chan_tag)));
    let seen: Vec<(i64, Option<&str>, i64, String)> = hours
        .iter()
        .map(|s| {
            (
                s.day_ms - base,
                s.chan_tag.as_deref(),
                s.orders,
                s.commission.to_string(),
            )
        })
        .collect();
    let hour = 3_600_000;
    assert_eq!(
        seen,
        vec![
            (day - hour, Some("a"), 1, "2.02".to_owned()),
            (day, Some("a"), 1, "1.01".to_owned()),
            (day, Some("b"), 1, "3.03".to_owned()),
        ]
    );
}

#[tokio::test]
async fn sqlite_daily_sums() {
    on_sqlite(daily_sums_count_each_settled_order_once).await;
}

#[tokio::test]
async fn postgres_daily_sums() {
    on_postgres(daily_sums_count_each_settled_order_once).await;
}

/// A shop of a kind this version does not know (a row a newer version wrote) is left out of
/// the listings, not allowed to stop every tenant's; opening it says what it is.
#[tokio::test]
async fn a_shop_of_an_unknown_kind_is_left_out_of_listings() {
    let (store, path) = sqlite().await;
    let known = new_shop(&store, "known", "jit").await;
    let unknown = new_shop(&store, "unknown", "jit").await;
    sqlx::query("UPDATE connections SET platform = 'acme', mode = 'shop' WHERE id = $1")
        .bind(&unknown)
        .execute(store.pool())
        .await
        .expect("rewrite");
    let listed: Vec<String> = store
        .connection_summaries()
        .await
        .expect("listing")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![known]);
    let err = store.connection(&unknown).await.expect_err("unknown kind");
    assert!(err.to_string().contains("acme"), "{err}");
    store.pool().close().await;
    let _ = std::fs::remove_file(&path);
}

/// A revoked shop comes back only through a re-authorization begun after its revocation: one
/// begun before, even one already past its callback when the revocation lands, is refused.
async fn a_revocation_beats_every_flow_begun_before_it(store: &Store) {
    let shop = new_shop(store, "reinstate", "jit").await;
    let tenant = store.connection(&shop).await.expect("shop").tenant_id;
    let flow = |state: &'static str| {
        let issued = shopbridge_store::ConnectState {
            tenant_id: tenant.clone(),
            kind: shopbridge_core::ShopKind::VopJit,
            seller: None,
            name: "reinstate".into(),
            redirect_uri: "http://hub/connect/vop/callback".into(),
            return_to: None,
            reauthorize: Some(shop.clone()),
        };
        async move {
            store
                .create_connect_state(state, &issued, 1_000_000)
                .await
                .expect("state");
        }
    };
    let fresh = SecretString::from("fresh");
    // Begun and past its callback (taken), then the shop is revoked: refused.
    flow("before").await;
    store
        .take_connect_state("before", shopbridge_core::Platform::Vop, 10)
        .await
        .expect("taken");
    store.revoke(&shop, "revoked", 20).await.expect("revoke");
    assert!(matches!(
        store.revoke(&shop, "again", 21).await,
        Err(shopbridge_store::StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .reinstate(&shop, "before", &fresh, None, None, 30)
            .await,
        Err(shopbridge_store::StoreError::Conflict(_))
    ));
    assert_eq!(
        store.connection(&shop).await.expect("shop").state,
        ConnectionState::Revoked
    );
    // Begun after the revocation: the shop is back, once.
    flow("after").await;
    store
        .take_connect_state("after", shopbridge_core::Platform::Vop, 40)
        .await
        .expect("taken");
    store
        .reinstate(&shop, "after", &fresh, Some(99), None, 50)
        .await
        .expect("reinstated");
    let back = store.connection(&shop).await.expect("shop");
    assert_eq!(back.state, ConnectionState::Active);
    assert_eq!(back.access_expires_ms, Some(99));
    assert!(matches!(
        store
            .reinstate(&shop, "after", &fresh, None, None, 60)
            .await,
        Err(shopbridge_store::StoreError::Conflict(_))
    ));
    // New credentials never land on a revoked shop.
    store.revoke(&shop, "revoked", 70).await.expect("revoke");
    assert!(matches!(
        store
            .update_credentials(&shop, &fresh, None, None, 80)
            .await,
        Err(shopbridge_store::StoreError::Conflict(_))
    ));
}

#[tokio::test]
async fn sqlite_revocation_beats_earlier_flows() {
    on_sqlite(a_revocation_beats_every_flow_begun_before_it).await;
}

#[tokio::test]
async fn postgres_revocation_beats_earlier_flows() {
    on_postgres(a_revocation_beats_every_flow_begun_before_it).await;
}

/// A small deterministic generator: the same cases on every run and both backends.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Windows by creation or change time, of every status or one, are counted and paged from the
/// writer's hourly counts exactly as a scan of the records would: after pages that add records,
/// move them between hours and statuses, repeat versions and reach final ones.
async fn hourly_counts_agree_with_the_records(store: &Store) {
    let shop = new_shop(store, "counts", "jit").await;
    let hour = 3_600_000_i64;
    let base = 1_764_000_000_000_i64 - 1_764_000_000_000_i64 % hour;
    let span = 30 * hour;
    let statuses = [None, Some("JH_01"), Some("JH_02"), Some("JH_05")];
    let mut rng = Lcg(7);
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    for round in 0..6 {
        let mut page = Vec::new();
        for _ in 0..120 {
            let id = format!("O{:03}", rng.below(250));
            let created = (rng.below(5) > 0).then(|| base + rng.below(span as u64) as i64);
            // Now and then a time no window reaches: a platform's nonsense.
            let absurd = [
                i64::MIN,
                i64::MAX,
                -253_402_300_800_000,
                253_402_300_799_999,
            ];
            let created = match rng.below(40) {
                0 => Some(*rng.pick(&absurd)),
                _ => created,
            };
            let updated = match rng.below(40) {
                0 => *rng.pick(&absurd),
                _ => base + rng.below(span as u64) as i64,
            };
            page.push(SyncedRecord {
                id,
                updated_ms: updated,
                is_final: rng.below(10) == 0,
                payload: format!(r#"{{"round":{round},"n":{}}}"#, rng.below(3)),
                columns: shopbridge_store::RecordColumns {
                    created_ms: created,
                    status: rng.pick(&statuses).map(str::to_owned),
                    ..Default::default()
                },
            });
        }
        // The same ids under another stream of the same shop, counted apart.
        let others: Vec<SyncedRecord> = page
            .iter()
            .map(|record| SyncedRecord {
                updated_ms: base + rng.below(span as u64) as i64,
                ..record.clone()
            })
            .collect();
        for (stream, records) in [("jit_orders", page), ("jit_returns", others)] {
            store
                .save_page(
                    &shop,
                    stream,
                    &shopbridge_store::PageRecords::Records(records),
                    cp,
                    None,
                    0,
                )
                .await
                .expect("page");
        }
        let all = store
            .synced_records(&shop, "jit_orders")
            .await
            .expect("all");
        for _ in 0..25 {
            // Windows from within one hour to the whole span, on and off hour boundaries.
            let mut start = base - hour + rng.below((span + 2 * hour) as u64) as i64;
            let length = *rng.pick(&[hour, 6 * hour, span]);
            let mut end = start + rng.below(length as u64) as i64;
            if rng.below(3) == 0 {
                start -= start.rem_euclid(hour);
                end = end - end.rem_euclid(hour) - 1;
            }
            let field = *rng.pick(&[TimeField::Created, TimeField::Updated]);
            let status = rng.pick(&statuses[1..]).filter(|_| rng.below(2) == 0);
            let mut expected: Vec<(i64, String)> = all
                .iter()
                .filter(|r| status.is_none_or(|s| r.record.columns.status.as_deref() == Some(s)))
                .filter_map(|r| {
                    let time = match field {
                        TimeField::Created => r.record.columns.created_ms?,
                        _ => r.record.updated_ms,
                    };
                    (start..=end)
                        .contains(&time)
                        .then(|| (time, r.record.id.clone()))
                })
                .collect();
            expected.sort();
            let filter = RecordFilter {
                time: Some((field, start, end)),
                status: status.map(str::to_owned),
                ..RecordFilter::default()
            };
            let total = expected.len() as i64;
            for offset in [0, 7, total / 2, total - 3, total - 1, total, total + 5] {
                let offset = offset.max(0);
                let (counted, rows) = store
                    .find_records(&shop, "jit_orders", &filter, offset, 5)
                    .await
                    .expect("find");
                let ids: Vec<&str> = rows.iter().map(|r| r.record.id.as_str()).collect();
                let wanted: Vec<&str> = expected
                    .iter()
                    .skip(offset as usize)
                    .take(5)
                    .map(|(_, id)| id.as_str())
                    .collect();
                assert_eq!(
                    (counted, ids),
                    (total, wanted),
                    "round {round}: {filter:?} from {offset}"
                );
            }
        }
    }
}

#[tokio::test]
async fn sqlite_hourly_counts() {
    on_sqlite(hourly_counts_agree_with_the_records).await;
}

#[tokio::test]
async fn postgres_hourly_counts() {
    on_postgres(hourly_counts_agree_with_the_records).await;
}

/// The daily refund sums the writer keeps equal the sums of the refunds themselves joined to
/// their orders, whatever the order of arrival: refunds before their order, orders changing
/// tags, refunds moving to another day or amount, refunds not booked yet.
async fn refund_sums_agree_with_the_refunds(store: &Store) {
    let shop = new_shop(store, "refund sums", "union_channel").await;
    let day = 86_400_000_i64;
    let base = shopbridge_store::beijing_day(1_764_000_000_000);
    let tags = [None, Some("a"), Some("b"), Some("")];
    // Halves at the fifth decimal, a sign, nonsense, and no amount.
    let amounts = [
        "-1.20",
        "2",
        "-0.0005",
        "3.1415",
        "0.00005",
        "-2.00015",
        "+1.5",
        "not a number",
        "99999999999999",
    ];
    let mut rng = Lcg(11);
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    let stream = shopbridge_store::UNION_REFUNDS_STREAM;
    for round in 0..12 {
        let update = base + round * 1000;
        if rng.below(2) == 0 {
            let orders: Vec<UnionOrderRecord> = (0..15)
                .map(|_| {
                    let sn = format!("U{}", rng.below(30));
                    UnionOrderRecord {
                        order_sn: sn.clone(),
                        status: 1,
                        sub_status: None,
                        chan_tag: rng.pick(&tags).map(str::to_owned),
                        stat_param: rng.pick(&tags).map(str::to_owned),
                        commission: Some("1".into()),
                        order_time_ms: 1,
                        last_update_ms: update + rng.below(500) as i64,
                        settled: false,
                        settled_ms: None,
                        payload: format!(r#"{{"orderSn":"{sn}"}}"#),
                    }
                })
                .collect();
            store
                .save_page(
                    &shop,
                    "union_orders",
                    &shopbridge_store::PageRecords::UnionOrders(orders),
                    cp,
                    None,
                    0,
                )
                .await
                .expect("orders");
        } else {
            let refunds: Vec<SyncedRecord> = (0..25)
                .map(|_| SyncedRecord {
                    id: format!("A{}", rng.below(60)),
                    updated_ms: update + rng.below(500) as i64,
                    is_final: false,
                    payload: format!(r#"{{"n":{}}}"#, rng.below(1000)),
                    columns: shopbridge_store::RecordColumns {
                        booked_ms: (rng.below(6) > 0)
                            .then(|| base + rng.below(4 * day as u64) as i64),
                        parent_id: Some(format!("U{}", rng.below(30))),
                        amount: (rng.below(8) > 0).then(|| (*rng.pick(&amounts)).to_owned()),
                        ..Default::default()
                    },
                })
                .collect();
            store
                .save_page(
                    &shop,
                    stream,
                    &shopbridge_store::PageRecords::Records(refunds),
                    cp,
                    None,
                    0,
                )
                .await
                .expect("refunds");
        }
        let key = |s: &shopbridge_store::RefundSum| {
            (
                s.day_ms,
                s.order.clone(),
                s.refunds,
                s.deduction.normalize().to_string(),
            )
        };
        let mut kept: Vec<_> = store
            .refund_days(&shop, base, base + 4 * day)
            .await
            .expect("kept")
            .iter()
            .map(key)
            .collect();
        let mut summed: Vec<_> = store
            .booked_refund_sums(&shop, stream, base, base + 4 * day)
            .await
            .expect("summed")
            .iter()
            .map(key)
            .collect();
        kept.sort();
        summed.sort();
        assert_eq!(kept, summed, "round {round}");
    }
}

#[tokio::test]
async fn sqlite_refund_sums() {
    on_sqlite(refund_sums_agree_with_the_refunds).await;
}

#[tokio::test]
async fn postgres_refund_sums() {
    on_postgres(refund_sums_agree_with_the_refunds).await;
}

/// Every version of a Union order keeps its JSON: a replaced version's in its history row, the
/// current version's in the order's row only (it has no history row), so that a first sync
/// writes each order once.
async fn history_keeps_every_versions_json(store: &Store) {
    let shop = new_shop(store, "history", "union_channel").await;
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    let version = |sn: &str, update: i64| UnionOrderRecord {
        payload: format!(r#"{{"orderSn":"{sn}","v":{update}}}"#),
        ..order(sn, update, "pending", false)
    };
    for page in [
        vec![version("X", 10), version("Y", 10)],
        // Two new versions of X in one page; Y seen again unchanged.
        vec![version("X", 20), version("Y", 10), version("X", 30)],
        vec![version("X", 40)],
    ] {
        store
            .save_page(
                &shop,
                "union_orders",
                &shopbridge_store::PageRecords::UnionOrders(page),
                cp,
                None,
                0,
            )
            .await
            .expect("page");
    }
    let history = |sn: &'static str| {
        let shop = shop.clone();
        async move {
            let rows = sqlx::query(
                "SELECT last_update_ms, payload FROM union_order_history
                 WHERE connection_id = $1 AND order_sn = $2 ORDER BY last_update_ms",
            )
            .bind(&shop)
            .bind(sn)
            .fetch_all(store.pool())
            .await
            .expect("history");
            rows.iter()
                .map(|row| {
                    use sqlx::Row;
                    let update: i64 = row.get("last_update_ms");
                    let payload: String = row.get("payload");
                    (update, payload)
                })
                .collect::<Vec<_>>()
        }
    };
    let json = |sn: &str, update: i64| format!(r#"{{"orderSn":"{sn}","v":{update}}}"#);
    assert_eq!(
        history("X").await,
        vec![
            (10, json("X", 10)),
            (20, json("X", 20)),
            (30, json("X", 30)),
        ]
    );
    assert_eq!(history("Y").await, vec![]);
    let updates = store
        .union_order_versions(&shop, "X")
        .await
        .expect("versions")
        .into_iter()
        .map(|(update, _, _)| update)
        .collect::<Vec<_>>();
    assert_eq!(updates, vec![10, 20, 30, 40]);
    let (_, current) = store
        .union_orders_page(&shop, i64::MIN, None, 10)
        .await
        .expect("orders")
        .into_iter()
        .find(|(cursor, _)| cursor.id == "X")
        .expect("X");
    assert_eq!(current, json("X", 40));
}

#[tokio::test]
async fn sqlite_history_keeps_every_version() {
    on_sqlite(history_keeps_every_versions_json).await;
}

#[tokio::test]
async fn postgres_history_keeps_every_version() {
    on_postgres(history_keeps_every_versions_json).await;
}

/// A page that fails half-way leaves nothing behind and no lock held: the store's next writes,
/// through the pool and through the page connection, go through. Foreign keys hold on the page
/// connection as on the pool's.
#[tokio::test]
async fn sqlite_a_failed_page_leaves_no_lock_behind() {
    let (store, path) = sqlite().await;
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    let err = store
        .save_page(
            "no-such-shop",
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(vec![order("X", 10, "pending", false)]),
            cp,
            None,
            0,
        )
        .await
        .expect_err("an order of no shop");
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    let shop = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        new_shop(&store, "after", "union_channel"),
    )
    .await
    .expect("the pool writes at once");
    store
        .save_page(
            &shop,
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(vec![order("X", 10, "pending", false)]),
            cp,
            None,
            0,
        )
        .await
        .expect("the page connection writes");
    assert_eq!(store.union_order_count(&shop).await.expect("count"), 1);
    std::fs::remove_file(&path).ok();
}

/// While another process holds the file's write lock, a page waits for it (without holding
/// the thread: on this one-thread runtime the test's own timer would otherwise fire only after
/// SQLite's busy handler gave up) and is written once it is free.
#[tokio::test]
async fn sqlite_a_page_waits_for_another_writer() {
    let (store, path) = sqlite().await;
    let shop = new_shop(&store, "waits", "union_channel").await;
    let other = rusqlite::Connection::open(&path).expect("another writer");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let writing = {
        let store = store.clone();
        let shop = shop.clone();
        tokio::spawn(async move {
            store
                .save_page(
                    &shop,
                    "union_orders",
                    &shopbridge_store::PageRecords::UnionOrders(vec![order(
                        "W", 10, "pending", false,
                    )]),
                    Checkpoint {
                        cursor_ms: 0,
                        window: None,
                    },
                    None,
                    0,
                )
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert!(!writing.is_finished(), "the page waits for the lock");
    other.execute_batch("COMMIT").expect("release");
    writing
        .await
        .expect("task")
        .expect("written once the lock is free");
    assert_eq!(store.union_order_count(&shop).await.expect("count"), 1);
    std::fs::remove_file(&path).ok();
}

/// Deleting a shop cancels the deliveries still queued about it (kept in the log, never sent),
/// and leaves every other shop's alone.
async fn deleting_a_shop_cancels_its_queued_deliveries(store: &Store) {
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    let events = Some(shopbridge_store::RecordEvents {
        created: "union_order.created",
        updated: "union_order.updated",
    });
    let mut hooks = Vec::new();
    for name in ["deleted", "kept"] {
        let shop = new_shop(store, name, "union_channel").await;
        let tenant = store.connection(&shop).await.expect("shop").tenant_id;
        let hook = store
            .create_webhook(
                &tenant,
                "https://example.com/h",
                &[],
                &SecretString::from("k"),
                1,
            )
            .await
            .expect("webhook");
        store
            .save_page(
                &shop,
                "union_orders",
                &shopbridge_store::PageRecords::UnionOrders(vec![order("N", 10, "pending", false)]),
                cp,
                events,
                2,
            )
            .await
            .expect("page");
        hooks.push((shop, tenant, hook));
    }
    let (deleted, _, _) = &hooks[0];
    store.revoke(deleted, "test", 3).await.expect("revoke");
    store
        .delete_connection(deleted, "test", 4)
        .await
        .expect("delete");
    let statuses = |tenant: String, hook: String| async move {
        store
            .webhook_deliveries(&tenant, &hook, 10)
            .await
            .expect("deliveries")
            .into_iter()
            .map(|(delivery, _)| delivery.status)
            .collect::<Vec<_>>()
    };
    let (_, tenant, hook) = hooks[0].clone();
    assert_eq!(statuses(tenant, hook).await, ["cancelled"]);
    let (_, tenant, hook) = hooks[1].clone();
    assert_eq!(statuses(tenant, hook).await, ["pending"]);
    assert!(
        store
            .claim_due_deliveries(1_000, 60_000, 10)
            .await
            .expect("due")
            .iter()
            .all(|due| !due.delivery.payload.contains(deleted.as_str())),
        "a cancelled delivery is never claimed"
    );
}

#[tokio::test]
async fn sqlite_deleting_a_shop_cancels_its_deliveries() {
    on_sqlite(deleting_a_shop_cancels_its_queued_deliveries).await;
}

#[tokio::test]
async fn postgres_deleting_a_shop_cancels_its_deliveries() {
    on_postgres(deleting_a_shop_cancels_its_queued_deliveries).await;
}

/// A stopping process whose runs were cut off hands its streams back due at once: another
/// process claims them now instead of when the leases run out; other owners' leases stay.
async fn cut_off_streams_are_handed_back(store: &Store) {
    let shop = new_shop(store, "hand back", "union_channel").await;
    for stream in ["union_orders", "union_refunds"] {
        store
            .ensure_schedule(&shop, stream, 180_000, 0)
            .await
            .expect("schedule");
    }
    let scope = |stream| shopbridge_store::ClaimScope::Stream(&shop, stream);
    let mine = store
        .claim_due_of("stopping", 1_000, 600_000, scope("union_orders"))
        .await
        .expect("claim")
        .expect("due");
    store
        .claim_due_of("other", 1_000, 600_000, scope("union_refunds"))
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(
        store
            .release_leases_of("stopping", 2_000)
            .await
            .expect("hand back"),
        1
    );
    let again = store
        .claim_due_of("next", 2_000, 600_000, scope(&mine.stream))
        .await
        .expect("claim");
    assert!(again.is_some(), "due at once, not when the lease runs out");
    assert!(
        store
            .claim_due_of("next", 2_000, 600_000, scope("union_refunds"))
            .await
            .expect("claim")
            .is_none(),
        "another owner's lease stays"
    );
}

#[tokio::test]
async fn sqlite_cut_off_streams_are_handed_back() {
    on_sqlite(cut_off_streams_are_handed_back).await;
}

#[tokio::test]
async fn postgres_cut_off_streams_are_handed_back() {
    on_postgres(cut_off_streams_are_handed_back).await;
}

/// A run writes its pages only while its stream's lease is its own claim: once the stream has
/// been claimed again (the old claim's lease lapsed), by another process or by the same one, a
/// late batch of the old run is refused whole, checkpoint included, so the new holder's
/// checkpoint never moves back; the old claim can neither renew nor release the new one.
async fn pages_are_written_only_under_their_lease(store: &Store) {
    let shop = new_shop(store, "lease", "union_channel").await;
    let stream = "jit_orders";
    store
        .ensure_schedule(&shop, stream, 180_000, 0)
        .await
        .expect("schedule");
    let scope = shopbridge_store::ClaimScope::Stream(&shop, stream);
    let claim = async |owner: &str, now_ms: i64| {
        store
            .claim_due_of(owner, now_ms, 60_000, scope)
            .await
            .expect("claim")
            .expect("due, or its lease lapsed")
    };
    let records = |id: &str| {
        shopbridge_store::PageRecords::Records(vec![SyncedRecord {
            id: id.into(),
            updated_ms: 10,
            is_final: false,
            payload: format!(r#"{{"id":"{id}"}}"#),
            columns: Default::default(),
        }])
    };
    let write = async |lease: &shopbridge_store::Claimed, id: &str, cursor_ms: i64| {
        let page = records(id);
        let target = shopbridge_store::PageTarget {
            connection_id: &shop,
            stream,
            events: None,
            now_ms: cursor_ms,
            lease: Some(lease),
        };
        let pages = [shopbridge_store::FetchedRecords {
            records: &page,
            call: None,
        }];
        let checkpoint = Checkpoint {
            cursor_ms,
            window: None,
        };
        store.save_fetched_pages(&target, &pages, checkpoint).await
    };
    let refused = |result: Result<Vec<usize>, shopbridge_store::StoreError>| {
        let err = result.expect_err("refused");
        assert!(
            matches!(err, shopbridge_store::StoreError::LeaseLost { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("no longer holds the lease"));
    };
    let cursor = async || {
        store
            .checkpoint(&shop, stream)
            .await
            .expect("checkpoint")
            .map(|checkpoint| checkpoint.cursor_ms)
    };
    let stored = async || {
        let mut ids: Vec<String> = store
            .synced_records(&shop, stream)
            .await
            .expect("records")
            .into_iter()
            .map(|stored| stored.record.id)
            .collect();
        ids.sort();
        ids
    };

    let first = claim("first", 1_000).await;
    let forged = shopbridge_store::Claimed {
        lease_token: "not a claim".into(),
        ..first.clone()
    };
    refused(write(&forged, "X", 5_000).await);
    assert_eq!(
        (cursor().await, stored().await),
        (None, Vec::<String>::new())
    );
    write(&first, "A", 2_000).await.expect("the lease holder");
    assert_eq!(cursor().await, Some(2_000));

    // The first process's lease lapses unrenewed and another one takes the stream over.
    let second = claim("second", 200_000).await;
    write(&second, "B", 9_000).await.expect("the new holder");
    refused(write(&first, "C", 3_000).await);
    assert_eq!(cursor().await, Some(9_000), "never moved back");

    // The second process's lease lapses too (its renewals failed), and it claims the stream
    // again: its earlier claim is as stale as another process's.
    let again = claim("second", 400_000).await;
    assert_ne!(again.lease_token, second.lease_token);
    refused(write(&second, "D", 4_000).await);
    assert!(
        !store
            .renew_lease(&second, "second", 500_000)
            .await
            .expect("renew"),
        "the stale claim cannot renew"
    );
    // Released as interrupted, the stream would be due again at once: another claim would
    // take it if this release counted.
    store
        .release_interrupted(&second, "second", 400_001)
        .await
        .expect("release");
    assert!(
        store
            .claim_due_of("third", 400_002, 60_000, scope)
            .await
            .expect("claim")
            .is_none(),
        "the stale claim's release leaves the new claim's lease"
    );
    write(&again, "E", 12_000).await.expect("the new claim");
    assert_eq!(cursor().await, Some(12_000));
    assert_eq!(
        stored().await,
        ["A", "B", "E"],
        "nothing of the stale batches"
    );
}

#[tokio::test]
async fn sqlite_pages_are_written_only_under_their_lease() {
    on_sqlite(pages_are_written_only_under_their_lease).await;
}

#[tokio::test]
async fn postgres_pages_are_written_only_under_their_lease() {
    on_postgres(pages_are_written_only_under_their_lease).await;
}

/// A lease whose holder has exited is taken over only under the very claim that was seen: once
/// anyone has claimed the stream since, the take-over finds nothing, and the new claim stays.
/// Nor is an inactive shop's stream taken over.
async fn only_the_claim_seen_is_taken_over(store: &Store) {
    let shop = new_shop(store, "takeover", "union_channel").await;
    let stream = "union_orders";
    store
        .ensure_schedule(&shop, stream, 180_000, 0)
        .await
        .expect("schedule");
    let scope = shopbridge_store::ClaimScope::Stream(&shop, stream);
    let gone = store
        .claim_due_of("gone", 0, 60_000, scope)
        .await
        .expect("claim")
        .expect("due");
    let (owner, until_ms, seen) = store
        .lease_of(&shop, stream)
        .await
        .expect("lease")
        .expect("held");
    assert_eq!((owner.as_str(), until_ms), ("gone", 60_000));
    assert_eq!(seen, gone);
    // Its lease lapses and another process claims the stream: the take-over of the claim seen
    // before finds nothing.
    let other = store
        .claim_due_of("other", 70_000, 60_000, scope)
        .await
        .expect("claim")
        .expect("lapsed");
    assert_eq!(
        store
            .take_over_lease(&seen, "gone", "by-hand", 70_000, 60_000)
            .await
            .expect("take over"),
        None
    );
    assert_eq!(
        store
            .lease_of(&shop, stream)
            .await
            .expect("lease")
            .map(|(owner, _, claim)| (owner, claim)),
        Some(("other".to_owned(), other.clone()))
    );
    // Under the claim that holds, the take-over succeeds with a claim of its own.
    let taken = store
        .take_over_lease(&other, "other", "by-hand", 80_000, 60_000)
        .await
        .expect("take over")
        .expect("taken");
    assert_ne!(taken.lease_token, other.lease_token);
    assert!(
        !store
            .renew_lease(&other, "other", 90_000)
            .await
            .expect("renew")
    );
    assert!(
        store
            .renew_lease(&taken, "by-hand", 90_000)
            .await
            .expect("renew")
    );
    // An inactive shop's stream is not taken over.
    sqlx::query("UPDATE connections SET state = 'needs_reauth' WHERE id = $1")
        .bind(&shop)
        .execute(store.pool())
        .await
        .expect("state");
    assert_eq!(
        store
            .take_over_lease(&taken, "by-hand", "someone", 100_000, 60_000)
            .await
            .expect("take over"),
        None
    );
}

#[tokio::test]
async fn sqlite_only_the_claim_seen_is_taken_over() {
    on_sqlite(only_the_claim_seen_is_taken_over).await;
}

#[tokio::test]
async fn postgres_only_the_claim_seen_is_taken_over() {
    on_postgres(only_the_claim_seen_is_taken_over).await;
}

/// The kept sums agree with the rows the writer kept them from; a check finds each sum that was
/// changed, lost or made up since, without touching them, and a rebuild puts back what the rows
/// make, reports then reading as before. A settlement time no day can hold is in no sum.
async fn kept_sums_are_checked_and_rebuilt_from_the_rows(store: &Store) {
    let shop = new_shop(store, "kept sums", "union_channel").await;
    let base = shopbridge_store::beijing_day(1_764_000_000_000);
    let day = 86_400_000_i64;
    let tags = [None, Some(""), Some("a"), Some("b")];
    let far = i64::MAX - 1;
    let mut rng = Lcg(7);
    let cp = Checkpoint {
        cursor_ms: 0,
        window: None,
    };
    for round in 0..8_i64 {
        let update = base + round * 3_600_000;
        let orders: Vec<UnionOrderRecord> = (0..40)
            .map(|_| {
                let sn = format!("U{:03}", rng.below(120));
                let settled = rng.below(3) == 0;
                UnionOrderRecord {
                    chan_tag: rng.pick(&tags).map(str::to_owned),
                    stat_param: rng.pick(&tags).map(str::to_owned),
                    commission: Some(format!("{}.{:02}", rng.below(50), rng.below(100))),
                    settled_ms: settled.then(|| update + rng.below(3 * day as u64) as i64),
                    ..order(&sn, update + rng.below(1000) as i64, "已下单", settled)
                }
            })
            .chain([UnionOrderRecord {
                settled_ms: Some(i64::MAX - 1),
                ..order("U-far", update, "已结算", true)
            }])
            .collect();
        store
            .save_page(
                &shop,
                "union_orders",
                &shopbridge_store::PageRecords::UnionOrders(orders),
                cp,
                None,
                0,
            )
            .await
            .expect("orders");
        for (stream, parent) in [
            (shopbridge_store::UNION_REFUNDS_STREAM, true),
            ("jit_returns", false),
        ] {
            // Times no hour or day can hold, no status, no creation time, final records.
            let records: Vec<SyncedRecord> = (0..30)
                .map(|_| SyncedRecord {
                    id: format!("R{:03}", rng.below(90)),
                    updated_ms: update + rng.below(2000) as i64,
                    is_final: rng.below(10) == 0,
                    payload: format!(r#"{{"n":{}}}"#, rng.below(1000)),
                    columns: shopbridge_store::RecordColumns {
                        created_ms: match rng.below(8) {
                            0 => None,
                            1 => Some(far),
                            // The earliest time anything is counted at: its day starts before it.
                            2 => Some(-253_402_300_800_000 + 1),
                            _ => Some(base + rng.below(day as u64) as i64),
                        },
                        status: [None, Some("new".to_owned()), Some("done".to_owned())]
                            [rng.below(3) as usize]
                            .clone(),
                        booked_ms: match rng.below(6) {
                            0 => None,
                            1 => Some(-far),
                            _ => Some(base + rng.below(2 * day as u64) as i64),
                        },
                        parent_id: (parent && rng.below(5) > 0)
                            .then(|| format!("U{:03}", rng.below(150))),
                        amount: Some(format!("-{}.5", rng.below(20))),
                        ..Default::default()
                    },
                })
                .collect();
            store
                .save_page(
                    &shop,
                    stream,
                    &shopbridge_store::PageRecords::Records(records),
                    cp,
                    None,
                    0,
                )
                .await
                .expect("records");
        }
    }
    let check = store.check_kept_sums(&shop, false).await.expect("check");
    assert!(check.agrees(), "{check:?}");
    assert!(!check.rebuilt);
    assert!(
        check.tables.iter().all(|table| table.recomputed > 0),
        "{check:?}"
    );
    let days = (base - day, base + 5 * day);
    let settled_before = store
        .settled_days(&shop, days.0, days.1)
        .await
        .expect("days");
    let refunds_before = store
        .refund_days(&shop, days.0, days.1)
        .await
        .expect("refunds");
    // One sum changed, one lost, one made up.
    for sql in [
        "UPDATE union_settled_daily SET orders = orders + 1 WHERE (connection_id, day_ms, chan_tag, stat_param) =
         (SELECT connection_id, day_ms, chan_tag, stat_param FROM union_settled_daily WHERE connection_id = $1
          ORDER BY day_ms, chan_tag, stat_param LIMIT 1)",
        "DELETE FROM synced_record_hours WHERE (connection_id, stream, time_field, hour_ms, status) =
         (SELECT connection_id, stream, time_field, hour_ms, status FROM synced_record_hours WHERE connection_id = $1
          AND records > 0 ORDER BY stream, time_field, hour_ms, status LIMIT 1)",
        "INSERT INTO union_refund_daily (connection_id, day_ms, known, chan_tag, stat_param, refunds, deduction_e4) VALUES ($1, 0, 1, 'x', 'y', 3, 40000)",
        // Beyond any day, and under a time field no writer uses.
        "INSERT INTO union_settled_hourly (connection_id, hour_ms, chan_tag, stat_param, orders, commission_e4) VALUES ($1, 9000000000000000000, '', '', 1, 1)",
        "INSERT INTO synced_record_hours (connection_id, stream, time_field, hour_ms, status, records) VALUES ($1, 'jit_returns', 'booked', 0, '', 2)",
    ] {
        sqlx::query(sql)
            .bind(&shop)
            .execute(store.pool())
            .await
            .expect("corrupt");
    }
    let differing = |check: &shopbridge_store::SumsCheck| -> Vec<(&str, usize)> {
        check
            .tables
            .iter()
            .map(|table| (table.table, table.differing))
            .collect()
    };
    let found = store.check_kept_sums(&shop, false).await.expect("check");
    assert!(!found.agrees() && !found.rebuilt);
    assert_eq!(
        differing(&found),
        [
            ("union_settled_daily", 1),
            ("union_settled_hourly", 1),
            ("union_refund_daily", 1),
            ("synced_record_hours", 2)
        ]
    );
    assert_eq!(
        store.check_kept_sums(&shop, false).await.expect("check"),
        found,
        "a check changes nothing"
    );
    let rebuilt = store.check_kept_sums(&shop, true).await.expect("rebuild");
    assert!(rebuilt.rebuilt);
    assert_eq!(differing(&rebuilt), differing(&found), "what it found");
    let after = store.check_kept_sums(&shop, false).await.expect("check");
    assert!(after.agrees(), "{after:?}");
    assert_eq!(
        store
            .settled_days(&shop, days.0, days.1)
            .await
            .expect("days"),
        settled_before
    );
    assert_eq!(
        store
            .refund_days(&shop, days.0, days.1)
            .await
            .expect("refunds"),
        refunds_before
    );
    // A shop with nothing stored agrees, and a rebuild of it changes nothing.
    let empty = new_shop(store, "kept sums, empty", "union_channel").await;
    let nothing = store.check_kept_sums(&empty, true).await.expect("check");
    assert!(nothing.agrees() && !nothing.rebuilt);
}

#[tokio::test]
async fn sqlite_kept_sums_are_checked_and_rebuilt() {
    on_sqlite(kept_sums_are_checked_and_rebuilt_from_the_rows).await;
}

#[tokio::test]
async fn postgres_kept_sums_are_checked_and_rebuilt() {
    on_postgres(kept_sums_are_checked_and_rebuilt_from_the_rows).await;
}

/// A check reads from snapshots and takes no write lock: it runs to its end while another
/// process holds the file's write lock (a sync writing a page, say), where a rebuild that has
/// something to change waits for it like a page.
#[tokio::test]
async fn sqlite_a_check_of_the_sums_runs_beside_a_writer() {
    let (store, path) = sqlite().await;
    let shop = new_shop(&store, "check beside", "union_channel").await;
    store
        .save_page(
            &shop,
            "union_orders",
            &shopbridge_store::PageRecords::UnionOrders(vec![order("S", 10, "已结算", true)]),
            Checkpoint {
                cursor_ms: 0,
                window: None,
            },
            None,
            0,
        )
        .await
        .expect("page");
    let other = rusqlite::Connection::open(&path).expect("another writer");
    other
        .execute_batch("BEGIN IMMEDIATE; UPDATE union_settled_daily SET orders = orders + 1")
        .expect("the write lock");
    let check = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        store.check_kept_sums(&shop, false),
    )
    .await
    .expect("not waiting for the writer")
    .expect("check");
    assert!(
        check.agrees(),
        "the writer's uncommitted change is not seen: {check:?}"
    );
    other.execute_batch("COMMIT").expect("commit");
    let found = store.check_kept_sums(&shop, true).await.expect("rebuild");
    assert!(!found.agrees() && found.rebuilt);
    assert!(
        store
            .check_kept_sums(&shop, false)
            .await
            .expect("check")
            .agrees()
    );
    std::fs::remove_file(&path).ok();
}

/// Union orders are read by change time from their index by sub-status alone: a read across
/// statuses merges one range per status (NULL included) and must give what one ordered read
/// of every order gives, page by page, both ways, within change-time bounds, counted exactly.
async fn orders_across_statuses_read_as_one_list(store: &Store) {
    let shop = new_shop(store, "merged", "union_channel").await;
    let other = new_shop(store, "merged-other", "union_channel").await;
    let stages = [
        Some("已付款"),
        Some("已签收"),
        None,
        Some("已结算"),
        Some("已失效"),
    ];
    // 41 orders, several sharing a change time (ties go by number), statuses interleaved.
    let orders: Vec<UnionOrderRecord> = (0..41)
        .map(|n: i64| {
            let mut o = order(&format!("S{:03}", (n * 7) % 41), 1_000 + n / 3, "", false);
            o.sub_status = stages[(n % 5) as usize].map(str::to_owned);
            o
        })
        .collect();
    // Another shop's orders never show.
    let foreign: Vec<UnionOrderRecord> = (0..5)
        .map(|n| order(&format!("F{n}"), 1_005, "已付款", false))
        .collect();
    for (id, page) in [(&shop, &orders), (&other, &foreign)] {
        save_union_page(store, id, page).await;
    }
    let mut by_change: Vec<(i64, String)> = orders
        .iter()
        .map(|o| (o.last_update_ms, o.order_sn.clone()))
        .collect();
    by_change.sort();
    let numbers = |rows: &[(Cursor, String)]| {
        rows.iter()
            .map(|(cursor, _)| (cursor.updated_ms, cursor.id.clone()))
            .collect::<Vec<_>>()
    };
    // Newest first, 4 at a time, to the end; then back up from the oldest.
    let all = BrowseFilter::default();
    let mut seen = Vec::new();
    let mut seek = Seek::Newest;
    loop {
        let page = store
            .browse_union_orders(&shop, &all, &seek, 4, 100)
            .await
            .expect("page");
        assert_eq!(page.matching, Capped::Exactly(41));
        seen.extend(numbers(&page.rows));
        match page.rows.last() {
            Some((cursor, _)) if page.rows.len() == 4 => seek = Seek::Older(cursor.clone()),
            _ => break,
        }
    }
    let newest_first: Vec<(i64, String)> = by_change.iter().rev().cloned().collect();
    assert_eq!(
        seen, newest_first,
        "newest first, ties by number, each once"
    );
    let oldest = store
        .browse_union_orders(&shop, &all, &Seek::Oldest, 4, 10)
        .await
        .expect("oldest");
    assert_eq!(oldest.matching, Capped::MoreThan(10));
    assert_eq!(numbers(&oldest.rows), newest_first[37..].to_vec());
    let newer = store
        .browse_union_orders(&shop, &all, &Seek::Newer(oldest.rows[0].0.clone()), 4, 10)
        .await
        .expect("newer");
    assert_eq!(numbers(&newer.rows), newest_first[33..37].to_vec());
    // Change-time bounds across statuses, counted exactly.
    let bounded = BrowseFilter {
        updated_from_ms: Some(1_004),
        updated_to_ms: Some(1_009),
        ..BrowseFilter::default()
    };
    let page = store
        .browse_union_orders(&shop, &bounded, &Seek::Newest, 100, 100)
        .await
        .expect("bounded");
    let expected: Vec<(i64, String)> = newest_first
        .iter()
        .filter(|(update, _)| (1_004..1_009).contains(update))
        .cloned()
        .collect();
    assert_eq!(page.matching, Capped::Exactly(expected.len() as i64));
    assert_eq!(numbers(&page.rows), expected);
    // One status is one range; a prefix is a range of numbers.
    let signed = store
        .browse_union_orders(
            &shop,
            &BrowseFilter {
                status: Some("已签收".into()),
                ..BrowseFilter::default()
            },
            &Seek::Newest,
            100,
            100,
        )
        .await
        .expect("status");
    let expected: Vec<(i64, String)> = newest_first
        .iter()
        .filter(|(_, sn)| {
            orders
                .iter()
                .any(|o| &o.order_sn == sn && o.sub_status.as_deref() == Some("已签收"))
        })
        .cloned()
        .collect();
    assert_eq!(signed.matching, Capped::Exactly(8));
    assert_eq!(numbers(&signed.rows), expected);
    let prefixed = store
        .browse_union_orders(
            &shop,
            &BrowseFilter {
                id_prefix: Some("S00".into()),
                ..BrowseFilter::default()
            },
            &Seek::Newest,
            100,
            100,
        )
        .await
        .expect("prefix");
    assert_eq!(prefixed.matching, Capped::Exactly(10));
    // The feed after a cursor, oldest first, 6 at a time, walks every order once.
    let mut fed = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store
            .union_orders_page(&shop, 1_002, cursor.as_ref(), 6)
            .await
            .expect("feed");
        fed.extend(numbers(&page));
        match page.last() {
            Some((last, _)) if page.len() == 6 => cursor = Some(last.clone()),
            _ => break,
        }
    }
    let expected: Vec<(i64, String)> = by_change
        .iter()
        .filter(|(update, _)| *update >= 1_002)
        .cloned()
        .collect();
    assert_eq!(fed, expected);
    // More statuses than one statement merges: the statements' pages are merged in turn.
    let many = new_shop(store, "merged-many", "union_channel").await;
    let varied: Vec<UnionOrderRecord> = (0..150)
        .map(|n: i64| {
            let mut o = order(&format!("M{n:03}"), 5_000 - n / 2, "", false);
            o.sub_status = Some(format!("stage {}", n % 75));
            o
        })
        .collect();
    save_union_page(store, &many, &varied).await;
    let mut expected: Vec<(i64, String)> = varied
        .iter()
        .map(|o| (o.last_update_ms, o.order_sn.clone()))
        .collect();
    expected.sort();
    expected.reverse();
    let mut seen = Vec::new();
    let mut seek = Seek::Newest;
    loop {
        let page = store
            .browse_union_orders(&many, &all, &seek, 7, 1_000)
            .await
            .expect("page of many statuses");
        assert_eq!(page.matching, Capped::Exactly(150));
        seen.extend(numbers(&page.rows));
        match page.rows.last() {
            Some((cursor, _)) if page.rows.len() == 7 => seek = Seek::Older(cursor.clone()),
            _ => break,
        }
    }
    assert_eq!(seen, expected, "75 statuses read as one list");
    let first = store
        .union_orders_page(&many, 0, None, 9)
        .await
        .expect("feed of many statuses");
    expected.reverse();
    assert_eq!(numbers(&first), expected[..9].to_vec());
    // A shop with no orders reads as empty.
    let empty = new_shop(store, "merged-empty", "union_channel").await;
    let page = store
        .browse_union_orders(&empty, &all, &Seek::Newest, 10, 10)
        .await
        .expect("empty");
    assert_eq!((page.rows.len(), page.matching), (0, Capped::Exactly(0)));
    assert!(
        store
            .union_orders_page(&empty, 0, None, 10)
            .await
            .expect("empty feed")
            .is_empty()
    );
}

#[tokio::test]
async fn sqlite_orders_across_statuses_read_as_one_list() {
    on_sqlite(orders_across_statuses_read_as_one_list).await;
}

#[tokio::test]
async fn postgres_orders_across_statuses_read_as_one_list() {
    on_postgres(orders_across_statuses_read_as_one_list).await;
}

/// A page of orders not stored yet beside stored ones: the new ones are inserted without a
/// lookup, and each order still ends as the rules say (newest wins, settled is final, every
/// accepted version kept once), whichever kind it is.
async fn new_and_stored_orders_in_one_page(store: &Store) {
    let shop = new_shop(store, "mixed", "union_channel").await;
    let save = async |page: &[UnionOrderRecord]| save_union_page(store, &shop, page).await;
    save(&[
        order("OLD", 100, "已付款", false),
        order("FINAL", 100, "已结算", true),
    ])
    .await;
    let saved = save(&[
        order("NEW", 10, "已下单", false),
        order("OLD", 90, "已下单", false),
        order("FINAL", 200, "已失效", false),
        order("NEW", 20, "已付款", false),
        order("OLD", 120, "已签收", false),
        order("NEW", 15, "已付款", false),
        order("TWO", 5, "已结算", true),
        order("TWO", 6, "已失效", false),
    ])
    .await;
    assert_eq!(saved, 4, "NEW at 10 and 20, OLD at 120, TWO at 5");
    let rows: Vec<(String, Option<String>, i64)> = store
        .union_orders(&shop)
        .await
        .expect("orders")
        .into_iter()
        .map(|(sn, stage, _, update)| (sn, stage, update))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("FINAL".into(), Some("已结算".into()), 100),
            ("NEW".into(), Some("已付款".into()), 20),
            ("OLD".into(), Some("已签收".into()), 120),
            ("TWO".into(), Some("已结算".into()), 5),
        ]
    );
    for (order_sn, versions) in [
        ("NEW", vec![10, 20]),
        ("OLD", vec![100, 120]),
        ("FINAL", vec![100]),
        ("TWO", vec![5]),
    ] {
        let kept: Vec<i64> = store
            .union_order_versions(&shop, order_sn)
            .await
            .expect("versions")
            .into_iter()
            .map(|(update, _, _)| update)
            .collect();
        assert_eq!(kept, versions, "{order_sn}");
    }
    // The same page again changes nothing: every order in it is stored now.
    assert_eq!(
        save(&[
            order("NEW", 20, "已付款", false),
            order("TWO", 6, "已失效", false)
        ])
        .await,
        0
    );
}

#[tokio::test]
async fn sqlite_new_and_stored_orders_in_one_page() {
    on_sqlite(new_and_stored_orders_in_one_page).await;
}

#[tokio::test]
async fn postgres_new_and_stored_orders_in_one_page() {
    on_postgres(new_and_stored_orders_in_one_page).await;
}

/// Every PostgreSQL connection of the store plans each statement for the tables as they are:
/// a generic plan made while a new shop's tables were nearly empty would scan them on every
/// later page of its first sync (see `Store::open`).
#[tokio::test]
async fn postgres_statements_are_planned_for_the_tables_as_they_are() {
    on_postgres(async |store: &Store| {
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut conn = store.pool().acquire().await.expect("a connection");
            let mode: String = sqlx::query_scalar("SHOW plan_cache_mode")
                .fetch_one(&mut *conn)
                .await
                .expect("plan_cache_mode");
            assert_eq!(mode, "force_custom_plan");
            held.push(conn);
        }
    })
    .await;
}
