//! The platforms shopbridge connects to, and the kinds of shop it keeps for each.

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
    /// Every platform, in the order lists show them.
    pub const ALL: [Platform; 2] = [Platform::Vop, Platform::Winit];

    /// The short lowercase name used in URLs, configuration and the sandbox's path prefixes.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Vop => "vop",
            Platform::Winit => "winit",
        }
    }

    /// The platform named `name` (as [`Platform::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a connected shop is: its platform and the way the hub works with it there. Stored as
/// the platform's name and the mode's (`vop`/`jit`), so rows stay readable with SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShopKind {
    /// A VOP Union account acting with the application's own credentials (channel mode).
    VopUnionChannel,
    /// A VOP Union user who authorized the application (tool-provider mode).
    VopUnionTool,
    /// A VOP JIT supplier (a vendor).
    VopJit,
    /// A Winit overseas-warehouse seller.
    WinitWarehouse,
}

/// A stored platform and mode that name no kind of shop this version knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no kind of shop is {platform:?} in mode {mode:?}")]
pub struct UnknownShopKind {
    pub platform: String,
    pub mode: String,
}

impl ShopKind {
    /// Every kind, in the order lists show them.
    pub const ALL: [ShopKind; 4] = [
        ShopKind::VopUnionChannel,
        ShopKind::VopUnionTool,
        ShopKind::VopJit,
        ShopKind::WinitWarehouse,
    ];

    pub fn platform(self) -> Platform {
        match self {
            ShopKind::VopUnionChannel | ShopKind::VopUnionTool | ShopKind::VopJit => Platform::Vop,
            ShopKind::WinitWarehouse => Platform::Winit,
        }
    }

    /// The mode's stored name, unique within the platform.
    pub fn mode(self) -> &'static str {
        match self {
            ShopKind::VopUnionChannel => "union_channel",
            ShopKind::VopUnionTool => "union_tool",
            ShopKind::VopJit => "jit",
            ShopKind::WinitWarehouse => "oswh",
        }
    }

    /// The kind stored as `platform` and `mode`.
    pub fn from_stored(platform: &str, mode: &str) -> Result<Self, UnknownShopKind> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.platform().as_str() == platform && kind.mode() == mode)
            .ok_or_else(|| UnknownShopKind {
                platform: platform.to_owned(),
                mode: mode.to_owned(),
            })
    }

    /// The kind of `platform` whose mode is `mode`, for a caller who names both.
    pub fn of(platform: Platform, mode: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.platform() == platform && kind.mode() == mode)
    }

    /// A Union (affiliate) account: links, goods, orders and earnings, no shop operations.
    pub fn is_union(self) -> bool {
        matches!(self, ShopKind::VopUnionChannel | ShopKind::VopUnionTool)
    }
}

impl std::fmt::Display for ShopKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.platform(), self.mode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_names() {
        for kind in ShopKind::ALL {
            assert_eq!(
                ShopKind::from_stored(kind.platform().as_str(), kind.mode()),
                Ok(kind)
            );
            assert_eq!(ShopKind::of(kind.platform(), kind.mode()), Some(kind));
        }
        assert!(ShopKind::from_stored("vop", "oswh").is_err());
        assert_eq!(Platform::parse("winit"), Some(Platform::Winit));
        assert_eq!(Platform::parse("Winit"), None);
    }
}
