//! The REST contract as tools no one on the team wrote see it, against a live `shopbridge
//! serve`: a standard OpenAPI validator accepts the document; schemathesis, a property-based
//! API tester driven by the document, passes every check it has (contract/schemathesis.toml
//! says the two choices the protocol makes); and a client generated from the document by
//! openapi-python-client lists shops, pages through orders with the cursor and ships an order.
//! `contract/setup.sh` installs the three into `contract/.venv` when they are missing.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn contract_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contract")
}

fn tool(name: &str) -> std::path::PathBuf {
    contract_dir().join(".venv/bin").join(name)
}

fn succeeded(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_accept_the_rest_contract() {
    let setup = Command::new("bash")
        .arg(contract_dir().join("setup.sh"))
        .output()
        .expect("run contract/setup.sh");
    succeeded("contract/setup.sh", &setup);

    let hub = common::serve();
    let http = shopbridge_core::http::client_builder()
        .build()
        .expect("http");
    let (appkey, secret) = common::demo_credentials(&http, &hub).await;
    let credentials = format!("{appkey}:{secret}");
    let document = http
        .get(format!("{}/openapi.json", hub.url))
        .send()
        .await
        .expect("document")
        .text()
        .await
        .expect("text");
    let work = std::env::temp_dir().join(format!("sb-contract-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&work).expect("dir");
    let path = work.join("openapi.json");
    std::fs::write(&path, &document).expect("write");

    // 1. A standard validator.
    let validated = Command::new(tool("openapi-spec-validator"))
        .arg(&path)
        .output()
        .expect("validator");
    succeeded("openapi-spec-validator", &validated);

    // 2. A generated client, used as an ERP would (before the tester, whose stateful phase
    // revokes shops).
    let generated = Command::new(tool("openapi-python-client"))
        .current_dir(&work)
        .args(["generate", "--path"])
        .arg(&path)
        .args(["--output-path"])
        .arg(work.join("client"))
        .output()
        .expect("generator");
    succeeded("openapi-python-client generate", &generated);
    http.post(format!("{}/v1/sync/run", hub.url))
        .bearer_auth(&credentials)
        .send()
        .await
        .expect("sync")
        .error_for_status()
        .expect("synced");
    let round_trip = Command::new(tool("python"))
        .arg(contract_dir().join("round_trip.py"))
        .args([&hub.url, &credentials])
        .env("PYTHONPATH", work.join("client"))
        .output()
        .expect("round trip");
    succeeded("the generated client's round trip", &round_trip);
    assert!(String::from_utf8_lossy(&round_trip.stdout).contains("shipped"));
    // 3. The property-based tester, every check, against the live hub.
    let tested = Command::new(tool("schemathesis"))
        .current_dir(contract_dir())
        .args(["run", &format!("{}/openapi.json", hub.url)])
        .args(["--header", &format!("Authorization: Bearer {credentials}")])
        .args([
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--workers",
            "1",
        ])
        // A generation health check (how many drawn values a pattern filters out), not a
        // check of the API.
        .args(["--suppress-health-check", "filter_too_much"])
        .env("NO_COLOR", "1")
        .output()
        .expect("schemathesis");
    succeeded("schemathesis", &tested);

    let _ = std::fs::remove_dir_all(&work);
}
