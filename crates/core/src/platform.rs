//! The platforms shopbridge connects to.

use serde::{Deserialize, Serialize};

/// A platform with a connector crate and a sandbox module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Vipshop Open Platform (唯品会开放平台): Union affiliate and JIT supplier APIs.
    Vop,
    /// Winit (万邑通) overseas warehouse OpenAPI.
    Winit,
}

impl Platform {
    /// The short lowercase name used in URLs, configuration and the sandbox's path prefixes.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Vop => "vop",
            Platform::Winit => "winit",
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
