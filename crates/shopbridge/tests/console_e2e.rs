//! The web console in a real browser: `e2e/console.mjs` drives headless Chromium through
//! `shopbridge serve` (sign in, connect shops through the platforms' pages, sync, filter, open,
//! ship and export orders, read earnings after the clock moves, splice links, revoke and delete
//! a shop), then opens every page in both languages at desktop and phone width, failing on a
//! console error, a failed request or untranslated text, and writes a screenshot of each.
//! `e2e/setup.sh` installs Chromium, a CJK font and playwright-core when they are missing.

use std::path::Path;
use std::process::Command;

#[test]
fn the_console_works_in_headless_chromium() {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
    let setup = Command::new("bash")
        .arg(e2e.join("setup.sh"))
        .status()
        .expect("run e2e/setup.sh");
    assert!(
        setup.success(),
        "e2e/setup.sh could not install the browser test's needs"
    );
    let run = Command::new("node")
        .arg(e2e.join("console.mjs"))
        .env("SHOPBRIDGE_BIN", env!("CARGO_BIN_EXE_shopbridge"))
        .output()
        .expect("run node");
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    // Every page of the tour, in both languages, at desktop and phone width.
    let pages = [
        "shops",
        "sync",
        "sync-stream",
        "orders",
        "order",
        "links",
        "earnings",
        "union-order",
        "activity",
    ];
    let mut shots: Vec<String> = ["login-en", "connected-en", "links-result-en"]
        .iter()
        .map(|name| format!("{name}.png"))
        .collect();
    for page in pages {
        for lang in ["zh", "en"] {
            shots.push(format!("{page}-{lang}.png"));
            shots.push(format!("{page}-{lang}-phone.png"));
        }
    }
    for shot in &shots {
        let path = e2e.join("screenshots").join(shot);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1_000, "{} was written", path.display());
    }
}
