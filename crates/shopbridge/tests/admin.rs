//! An operator's commands against a running hub: backup while it serves and restore into a
//! fresh directory, tenant and shop listings as people read them, rotating a secret, deleting a
//! shop and a tenant.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use common::serve_with;

const BIN: &str = env!("CARGO_BIN_EXE_shopbridge");

/// `shopbridge ARGS... --database DB --master-key-file KEY` (the store flags go after the
/// subcommand's own arguments, as people type them).
fn admin(args: &[&str], database: &str, key: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .args(["--database", database, "--master-key-file"])
        .arg(key)
        .env_remove("SHOPBRIDGE_DATABASE_URL")
        .env_remove("SHOPBRIDGE_MASTER_KEY_FILE")
        .env_remove("SHOPBRIDGE_MASTER_KEY")
        .output()
        .expect("run shopbridge")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn refused(output: &Output) -> String {
    assert!(!output.status.success(), "expected a refusal");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn secret_of(printed: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.strip_prefix("appsecret").map(|s| s.trim().to_owned()))
        .expect("secret printed")
}

/// A tenant with a Winit warehouse (active at once: it connects with credentials), on a hub
/// running on a sandbox from a directory of its own.
struct Running {
    sandbox: shopbridge_sandbox::RunningSandbox,
    dir: std::path::PathBuf,
    database: String,
    key: std::path::PathBuf,
    secret: String,
    hub: common::Hub,
    http: reqwest::Client,
    shop: String,
}

impl Running {
    async fn start() -> Self {
        let sandbox = shopbridge_sandbox::RunningSandbox::spawn(Default::default())
            .await
            .expect("sandbox");
        let dir = std::env::temp_dir().join(format!("sb-admin-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        let database = format!("sqlite://{}", dir.join("hub.db").display());
        let key = dir.join("hub.key");
        // A fresh directory: refused without --create, which the command names.
        let refused_new = admin(
            &["tenant", "create", "ERP 甲", "--app-key", "erp"],
            &database,
            &key,
        );
        assert!(refused(&refused_new).contains("pass --create"));
        assert!(
            !dir.join("hub.db").exists() && !key.exists(),
            "nothing created"
        );
        let created = admin(
            &["tenant", "create", "ERP 甲", "--app-key", "erp", "--create"],
            &database,
            &key,
        );
        let secret = secret_of(&ok(&created));
        let stderr = String::from_utf8_lossy(&created.stderr);
        assert!(
            stderr.contains("hub.db (new)") && stderr.contains("hub.key (new)"),
            "the command says which store and key it created: {stderr}"
        );
        let hub = common::serve_store(&sandbox.base_url(), &database, &key.display().to_string());
        let http = shopbridge_core::http::client_builder()
            .build()
            .expect("http");
        let w = sandbox.credentials().winit;
        let winit: Value = http
            .post(format!("{}/v1/shops", hub.url))
            .bearer_auth(format!("erp:{secret}"))
            .json(&json!({"platform": "winit", "name": "仓库 A", "app_key": w.app_key, "token": w.token}))
            .send()
            .await
            .expect("winit")
            .json()
            .await
            .expect("json");
        assert_eq!(winit["state"], "active", "{winit}");
        let shop = winit["id"].as_str().expect("id").to_owned();
        let synced = http
            .post(format!("{}/v1/sync/run", hub.url))
            .bearer_auth(format!("erp:{secret}"))
            .send()
            .await
            .expect("sync");
        assert_eq!(synced.status(), 200);
        Self {
            sandbox,
            dir,
            database,
            key,
            secret,
            hub,
            http,
            shop,
        }
    }

    async fn get(&self, url: &str, secret: &str, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{url}{path}"))
            .bearer_auth(format!("erp:{secret}"))
            .send()
            .await
            .expect("get");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_hub_is_backed_up_and_restored_into_a_fresh_directory() {
    let env = Running::start().await;
    let (_, products) = env
        .get(
            &env.hub.url,
            &env.secret,
            &format!("/v1/products?shop={}", env.shop),
        )
        .await;
    let product_count = products["items"].as_array().expect("items").len();
    assert!(product_count > 0, "{products}");

    // While the hub serves.
    let backup = env.dir.join("backup.db");
    let printed = ok(&admin(
        &["backup", &backup.display().to_string()],
        &env.database,
        &env.key,
    ));
    assert!(printed.contains("1 tenants and 1 shops"), "{printed}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup)
            .expect("backup")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the backup is its owner's only");
    }
    let again = admin(
        &["backup", &backup.display().to_string()],
        &env.database,
        &env.key,
    );
    assert!(refused(&again).contains("exists"));

    // Into a fresh directory, with the key that goes with it.
    let fresh = env.dir.join("restored");
    std::fs::create_dir_all(&fresh).expect("dir");
    let restored_db = format!("sqlite://{}", fresh.join("hub.db").display());
    // A wrong key is caught before the store is used, and nothing is left behind.
    let wrong_key = fresh.join("other.key");
    let wrong = admin(
        &["restore", &backup.display().to_string()],
        &restored_db,
        &wrong_key,
    );
    assert!(refused(&wrong).contains("master key"));
    assert!(!fresh.join("hub.db").exists());
    // A write-ahead log left beside the target would be replayed onto the restored store.
    let stray = fresh.join("hub.db-wal");
    std::fs::write(&stray, "old").expect("stray wal");
    let leftover = admin(
        &["restore", &backup.display().to_string()],
        &restored_db,
        &env.key,
    );
    assert!(refused(&leftover).contains("hub.db-wal"));
    std::fs::remove_file(&stray).expect("remove");
    let printed = ok(&admin(
        &["restore", &backup.display().to_string()],
        &restored_db,
        &env.key,
    ));
    assert!(
        printed.contains("restored 1 tenants and 1 shops"),
        "{printed}"
    );
    let over = admin(
        &["restore", &backup.display().to_string()],
        &restored_db,
        &env.key,
    );
    assert!(refused(&over).contains("exists"));

    // The restored store serves the same shops and data.
    let restored = common::serve_store(
        &env.sandbox.base_url(),
        &restored_db,
        &env.key.display().to_string(),
    );
    let (status, shops) = env.get(&restored.url, &env.secret, "/v1/shops").await;
    assert_eq!(status, 200, "{shops}");
    let ids: Vec<&str> = shops
        .as_array()
        .expect("shops")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, vec![env.shop.as_str()]);
    let (_, products) = env
        .get(
            &restored.url,
            &env.secret,
            &format!("/v1/products?shop={}", env.shop),
        )
        .await;
    assert_eq!(
        products["items"].as_array().expect("items").len(),
        product_count
    );
    drop(restored);
    let _ = std::fs::remove_dir_all(&env.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_and_shops_are_listed_rotated_and_deleted() {
    let env = Running::start().await;
    let second = admin(
        &["tenant", "create", "affiliate", "--app-key", "aff"],
        &env.database,
        &env.key,
    );
    ok(&second);

    // Listings for people: a header, aligned columns, CJK names intact.
    let listed = ok(&admin(&["tenant", "list"], &env.database, &env.key));
    let lines: Vec<&str> = listed.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{listed}");
    for column in ["APP KEY", "SHOPS", "CREATED"] {
        assert!(lines[0].contains(column), "{listed}");
    }
    let erp = lines
        .iter()
        .find(|l| l.contains("ERP 甲"))
        .expect("ERP row");
    assert!(erp.contains(" erp ") && erp.contains(" 1 "), "{listed}");
    assert!(
        !listed.contains("{") && !listed.contains("Some("),
        "no debug output: {listed}"
    );
    // The header's columns line up with the rows' (display width, CJK counted double).
    let column = |line: &str, text: &str| {
        // The cell, not a longer word that starts with it.
        let at = line.find(&format!(" {text} ")).expect("text") + 1;
        unicode_width::UnicodeWidthStr::width(&line[..at])
    };
    let aff = lines.iter().find(|l| l.contains("affiliate")).expect("row");
    assert_eq!(column(lines[0], "APP"), column(aff, "aff"));
    assert_eq!(column(lines[0], "APP"), column(erp, "erp"));
    let json: Value = serde_json::from_str(&ok(&admin(
        &["tenant", "list", "--json"],
        &env.database,
        &env.key,
    )))
    .expect("json");
    assert_eq!(json.as_array().expect("array").len(), 2);

    let shops = ok(&admin(
        &["shops", "list", "--tenant", "erp"],
        &env.database,
        &env.key,
    ));
    assert!(
        shops.lines().next().is_some_and(|h| h.starts_with("ID")),
        "{shops}"
    );
    assert!(shops.contains(&env.shop) && shops.contains("仓库 A") && shops.contains("active"));
    let none = ok(&admin(
        &["shops", "list", "--tenant", "aff"],
        &env.database,
        &env.key,
    ));
    assert_eq!(none.trim(), "no shops");
    let unknown = admin(
        &["shops", "list", "--tenant", "nobody"],
        &env.database,
        &env.key,
    );
    assert!(refused(&unknown).contains("no tenant has app key"));

    // A new secret works at once; the old one is refused.
    let rotated = secret_of(&ok(&admin(
        &["tenant", "rotate-secret", "erp"],
        &env.database,
        &env.key,
    )));
    assert_ne!(rotated, env.secret);
    assert_eq!(env.get(&env.hub.url, &env.secret, "/v1/shops").await.0, 401);
    assert_eq!(env.get(&env.hub.url, &rotated, "/v1/shops").await.0, 200);

    // An active shop is revoked first; then it goes, with its data, audited.
    let active = admin(&["shops", "delete", &env.shop], &env.database, &env.key);
    assert!(refused(&active).contains("revoke it first"));
    let tenant_with_shop = admin(&["tenant", "delete", "erp"], &env.database, &env.key);
    assert!(refused(&tenant_with_shop).contains("delete them first"));
    let revoked = env
        .http
        .post(format!("{}/v1/shops/{}/revoke", env.hub.url, env.shop))
        .bearer_auth(format!("erp:{rotated}"))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    let deleted = ok(&admin(
        &["shops", "delete", &env.shop],
        &env.database,
        &env.key,
    ));
    assert!(
        deleted.starts_with(&format!("deleted shop {}", env.shop)),
        "{deleted}"
    );
    assert_eq!(
        env.get(&env.hub.url, &rotated, &format!("/v1/shops/{}", env.shop))
            .await
            .0,
        404
    );
    let (_, products) = env
        .get(
            &env.hub.url,
            &rotated,
            &format!("/v1/products?shop={}", env.shop),
        )
        .await;
    assert!(
        products["items"].is_null(),
        "the shop's data is gone: {products}"
    );
    ok(&admin(
        &["tenant", "delete", "erp"],
        &env.database,
        &env.key,
    ));
    assert_eq!(env.get(&env.hub.url, &rotated, "/v1/shops").await.0, 401);
    let left = ok(&admin(&["tenant", "list"], &env.database, &env.key));
    assert!(
        !left.contains("ERP 甲") && left.contains("affiliate"),
        "{left}"
    );
    let _ = std::fs::remove_dir_all(&env.dir);
}

/// `doctor` checks what `serve` uses, changes nothing, and says what is wrong with the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_a_running_deployment_and_names_each_problem() {
    let env = Running::start().await;
    // Run from an empty directory: nothing may be created there.
    let cwd = env.dir.join("cwd");
    std::fs::create_dir_all(&cwd).expect("cwd");
    let doctor = |args: &[&str]| {
        Command::new(BIN)
            .arg("doctor")
            .args(args)
            .current_dir(&cwd)
            .env_remove("SHOPBRIDGE_DATABASE_URL")
            .env_remove("SHOPBRIDGE_MASTER_KEY_FILE")
            .env_remove("SHOPBRIDGE_MASTER_KEY")
            .env_remove("SHOPBRIDGE_CONFIG")
            .env_remove("SHOPBRIDGE_VOP_APP_KEY")
            .env_remove("SHOPBRIDGE_PUBLIC_URL")
            .output()
            .expect("doctor")
    };
    let key = env.key.display().to_string();
    let sandbox = env.sandbox.base_url();
    let healthy = doctor(&[
        "--database",
        &env.database,
        "--master-key-file",
        &key,
        "--sandbox",
        &sandbox,
        "--public-url",
        &env.hub.url,
    ]);
    let printed = ok(&healthy);
    assert!(
        printed
            .lines()
            .next()
            .is_some_and(|h| h.starts_with("CHECK")),
        "{printed}"
    );
    for check in [
        "database",
        "master key",
        "vop gateway",
        "vop oauth",
        "winit",
        "public url",
    ] {
        let line = printed
            .lines()
            .find(|l| l.starts_with(check))
            .unwrap_or_else(|| panic!("{check} in {printed}"));
        assert!(line.contains(" ok "), "{line}");
    }
    assert!(printed.contains("migrations current"), "{printed}");
    assert!(printed.contains("/connect/vop/callback"), "{printed}");
    assert!(printed.trim_end().ends_with("no problems"), "{printed}");

    // Another key: named as the problem, with the fix; the exit code says so.
    let other_key = env.dir.join("other.key");
    std::fs::write(&other_key, "11".repeat(32)).expect("key");
    let wrong = doctor(&[
        "--database",
        &env.database,
        "--master-key-file",
        &other_key.display().to_string(),
        "--public-url",
        &env.hub.url,
    ]);
    assert!(!wrong.status.success());
    let printed = String::from_utf8_lossy(&wrong.stdout);
    let line = printed
        .lines()
        .find(|l| l.starts_with("master key"))
        .expect("master key line");
    assert!(
        line.contains("PROBLEM") && line.contains("restore the key file"),
        "{line}"
    );

    // A database that is not there is a problem, and is not created.
    let missing = env.dir.join("nowhere.db");
    let absent = doctor(&[
        "--database",
        &format!("sqlite://{}", missing.display()),
        "--master-key-file",
        &key,
    ]);
    assert!(!absent.status.success());
    assert!(!missing.exists(), "doctor created the database");
    let printed = String::from_utf8_lossy(&absent.stdout);
    assert!(printed.contains("PROBLEM"), "{printed}");
    // No public URL is a problem too: callbacks would name the listen address.
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("public url") && l.contains("PROBLEM")),
        "{printed}"
    );
    assert_eq!(
        std::fs::read_dir(&cwd).expect("cwd").count(),
        0,
        "doctor wrote files into the working directory"
    );
    let _ = std::fs::remove_dir_all(&env.dir);
}

/// A new deployment from one config file: `init` in a fresh directory, then `tenant create`,
/// `serve` and `doctor` all reading that file, run from another directory that stays empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_then_every_command_runs_from_one_config_file() {
    let sandbox = shopbridge_sandbox::RunningSandbox::spawn(Default::default())
        .await
        .expect("sandbox");
    let root = std::env::temp_dir().join(format!("sb-init-{}", uuid::Uuid::new_v4().simple()));
    let (dir, cwd) = (root.join("hub"), root.join("elsewhere"));
    std::fs::create_dir_all(&cwd).expect("dirs");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let public_url = format!("http://127.0.0.1:{port}");
    let run = |args: &[&str], config: Option<&Path>| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(&cwd)
            .env_remove("SHOPBRIDGE_DATABASE_URL")
            .env_remove("SHOPBRIDGE_MASTER_KEY_FILE")
            .env_remove("SHOPBRIDGE_MASTER_KEY")
            .env_remove("SHOPBRIDGE_VOP_APP_KEY")
            .env_remove("SHOPBRIDGE_PUBLIC_URL")
            .env_remove("SHOPBRIDGE_CONFIG");
        if let Some(config) = config {
            command.env("SHOPBRIDGE_CONFIG", config);
        }
        command.output().expect("run shopbridge")
    };
    let dir_text = dir.display().to_string();
    let sandbox_url = sandbox.base_url();
    let printed = ok(&run(
        &[
            "init",
            "--dir",
            &dir_text,
            "--public-url",
            &public_url,
            "--sandbox",
            &sandbox_url,
        ],
        None,
    ));
    assert!(
        printed.contains(&format!("{public_url}/connect/vop/callback")),
        "{printed}"
    );
    assert!(printed.contains("export SHOPBRIDGE_CONFIG="), "{printed}");
    let config = dir.canonicalize().expect("dir").join("shopbridge.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["shopbridge.toml", "shopbridge.key", "vop.secret"] {
            let mode = std::fs::metadata(dir.join(file))
                .expect(file)
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }
    let again = run(
        &["init", "--dir", &dir_text, "--public-url", &public_url],
        None,
    );
    assert!(refused(&again).contains("never overwrites"));

    let created = run(
        &["tenant", "create", "erp", "--app-key", "erp"],
        Some(&config),
    );
    let secret = secret_of(&ok(&created));
    let stderr = String::from_utf8_lossy(&created.stderr);
    assert!(
        stderr.contains(&dir.join("shopbridge.db").display().to_string()),
        "{stderr}"
    );

    let config_text = config.display().to_string();
    let hub = serve_with(&[
        "serve",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--config",
        &config_text,
    ]);
    assert_eq!(hub.url, public_url);
    let http = shopbridge_core::http::client_builder()
        .build()
        .expect("http");
    let shops = http
        .get(format!("{public_url}/v1/shops"))
        .bearer_auth(format!("erp:{secret}"))
        .send()
        .await
        .expect("shops");
    assert_eq!(
        shops.status(),
        200,
        "the tenant the CLI created is the hub's"
    );

    // The platform commands read the same file: Winit's seller and secrets (files named
    // relative to it) with no flag at all.
    let warehouses = ok(&run(&["winit", "warehouses"], Some(&config)));
    assert!(warehouses.contains("DE0001"), "{warehouses}");
    // A flag wins over the file: another database, refused as new without --create.
    let elsewhere = run(
        &["tenant", "list", "--database", "sqlite://other.db"],
        Some(&config),
    );
    assert!(refused(&elsewhere).contains("other.db"));
    // A misspelt key is refused, naming the file.
    let bad = root.join("bad.toml");
    std::fs::write(&bad, "[hub]\ndatabse = \"sqlite://x.db\"\n").expect("bad config");
    let refused_bad = run(&["tenant", "list"], Some(&bad));
    assert!(
        refused(&refused_bad).contains("not a valid shopbridge config"),
        "{}",
        String::from_utf8_lossy(&refused_bad.stderr)
    );
    let doctor = run(&["doctor"], Some(&config));
    let printed = ok(&doctor);
    for check in [
        "config file",
        "database",
        "master key",
        "vop gateway",
        "winit",
        "public url",
    ] {
        assert!(
            printed
                .lines()
                .any(|l| l.starts_with(check) && l.contains(" ok ")),
            "{check} in {printed}"
        );
    }
    drop(hub);
    assert_eq!(
        std::fs::read_dir(&cwd).expect("cwd").count(),
        0,
        "a command wrote into the working directory"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// `serve` starting after a hub on this machine crashed (its service manager restarting it)
/// hands back, due at once, the streams that hub left leased, before it says it is ready,
/// instead of leaving them until the leases lapse.
// Two threads: the sandbox runs in this process and answers the commands this test waits for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_resumes_the_streams_a_crashed_hub_left_leased() {
    let sandbox = shopbridge_sandbox::RunningSandbox::spawn(Default::default())
        .await
        .expect("sandbox");
    let dir = std::env::temp_dir().join(format!("sb-crash-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let database = format!("sqlite://{}", dir.join("hub.db").display());
    let key = dir.join("hub.key");
    let synced = admin(
        &[
            "sync",
            "union",
            "--sandbox",
            &sandbox.base_url(),
            "--initial-days",
            "2",
            "--create",
        ],
        &database,
        &key,
    );
    assert!(ok(&synced).contains("synced union orders"));
    let crashed = common::exited_process("serve");
    common::hold_union_orders(&database, &crashed).await;
    assert_eq!(
        common::union_orders_holder(&database).await.as_ref(),
        Some(&crashed)
    );
    let _hub = common::serve_store(&sandbox.base_url(), &database, &key.display().to_string());
    assert_ne!(
        common::union_orders_holder(&database).await.as_ref(),
        Some(&crashed),
        "handed back before the hub said it was ready"
    );
}
