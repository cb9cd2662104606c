//! The hub's shape, checked: outside the platform adapters no code names a platform, a mode or
//! a kind of shop, so that a platform is added by adding its adapter. Two files may name VOP:
//! `application.rs`, which registers the adapters, and `service/union.rs`, the service of
//! Union, which is VOP's affiliate product.

use std::path::Path;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_code_outside_the_adapters_names_a_platform() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let adapters = src.join("platforms");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let quoted = ["vop", "winit", "jit", "oswh", "union_channel", "union_tool"]
        .map(|name| format!("\"{name}\""));
    let typed = [
        "Platform::Vop",
        "Platform::Winit",
        "ShopKind::Vop",
        "ShopKind::Winit",
        "VopAdapter",
        "WinitAdapter",
    ];
    // The typed names a file may use: the wiring registers every adapter; the Union service
    // calls VOP's.
    let allowed = |file: &Path, name: &str| {
        file == src.join("application.rs")
            || (file == src.join("service/union.rs") && !name.contains("Winit"))
    };
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&adapters)) {
        let text = std::fs::read_to_string(file).expect("read");
        for (n, line) in text.lines().enumerate() {
            // The OpenAPI document's examples show callers the values they may send.
            if line.trim_start().starts_with("#[schema(") {
                continue;
            }
            let named = quoted.iter().any(|name| line.contains(name.as_str()))
                || typed
                    .iter()
                    .any(|name| line.contains(name) && !allowed(file, name));
            if named {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "platform names outside crates/hub/src/platforms:\n{}",
        found.join("\n")
    );
    assert!(files.len() > 20, "the hub's sources were read");
}
