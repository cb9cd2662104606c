//! Vipshop JIT supplier services (唯品会JIT): purchase orders, picks and deliveries, inventory,
//! products, returns to vendor, and direct shipping (JITX/DVD) — plus the unified connector.

pub mod connector;
pub mod delivery;
pub mod dvd;
pub mod inventory;
pub mod product;
pub mod vreturn;

use serde::{Deserialize, Serialize};

use crate::{VopClient, VopError, VopRequest};

pub const DELIVERY_SERVICE: &str = "vipapis.delivery.JitDeliveryService";
pub const INVENTORY_SERVICE: &str = "vipapis.inventory.InventoryService";
pub const PRODUCT_SERVICE: &str = "vipapis.product.VendorProductService";
pub const RETURN_SERVICE: &str = "vipapis.vreturn.VendorReturnService";
pub const DVD_SERVICE: &str = "vipapis.delivery.DvdDeliveryService";

/// Every JIT list takes `page` and `limit`; `limit` is at most 100.
pub const MAX_LIMIT: i32 = 100;

/// Implements [`VopRequest`] for a request struct whose fields are the method's arguments.
macro_rules! vop_method {
    ($ty:ty, $service:expr, $method:literal, $out:ty) => {
        impl $crate::VopRequest for $ty {
            type Output = $out;
            const SERVICE: &'static str = $service;

            fn method(&self) -> String {
                $method.to_owned()
            }

            fn arguments(&self) -> Result<serde_json::Value, $crate::VopError> {
                $crate::request::to_json($method, self)
            }

            fn validate(&self) -> Result<(), $crate::VopError> {
                self.check()
            }
        }
    };
}
pub(crate) use vop_method;

/// Implements [`Paged`] for a request with top-level `page`/`limit` and an answer holding the
/// items in `$list` next to `total`.
macro_rules! paged {
    ($ty:ty, $output:ty, $item:ty, $list:ident) => {
        impl $crate::jit::Paged for $ty {
            type Item = $item;

            fn at_page(&self, page: i32, limit: i32) -> Self {
                Self {
                    page: Some(page),
                    limit: Some(limit),
                    ..self.clone()
                }
            }

            fn split(output: $output) -> (Vec<$item>, i64) {
                (output.$list, output.total)
            }
        }
    };
}
pub(crate) use paged;

/// `vipapis.common.Warehouse`, sent by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(non_camel_case_types)]
pub enum Warehouse {
    /// 南海 (1)
    VIP_NH,
    /// 上海 (2)
    VIP_SH,
    /// 成都 (3)
    VIP_CD,
    /// 北京 (4)
    VIP_BJ,
    /// 鄂州 (5)
    VIP_HZ,
    /// 7
    VIP_HH,
    /// 8
    VIP_ZZ,
    /// 9
    VIP_SE,
    /// 10
    VIP_JC,
    /// 香港 (43)
    VIP_HK,
    /// 52
    VIP_SY,
}

impl Warehouse {
    pub const ALL: [Warehouse; 11] = [
        Warehouse::VIP_NH,
        Warehouse::VIP_SH,
        Warehouse::VIP_CD,
        Warehouse::VIP_BJ,
        Warehouse::VIP_HZ,
        Warehouse::VIP_HH,
        Warehouse::VIP_ZZ,
        Warehouse::VIP_SE,
        Warehouse::VIP_JC,
        Warehouse::VIP_HK,
        Warehouse::VIP_SY,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Warehouse::VIP_NH => "VIP_NH",
            Warehouse::VIP_SH => "VIP_SH",
            Warehouse::VIP_CD => "VIP_CD",
            Warehouse::VIP_BJ => "VIP_BJ",
            Warehouse::VIP_HZ => "VIP_HZ",
            Warehouse::VIP_HH => "VIP_HH",
            Warehouse::VIP_ZZ => "VIP_ZZ",
            Warehouse::VIP_SE => "VIP_SE",
            Warehouse::VIP_JC => "VIP_JC",
            Warehouse::VIP_HK => "VIP_HK",
            Warehouse::VIP_SY => "VIP_SY",
        }
    }

    pub fn parse(name: &str) -> Result<Self, VopError> {
        Self::ALL
            .into_iter()
            .find(|w| w.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| VopError::InvalidArgument {
                field: "warehouse".into(),
                message: format!(
                    "unknown warehouse {name:?}; expected one of {}",
                    Self::ALL.map(Warehouse::name).join(", ")
                ),
            })
    }
}

/// Checks `page` (from 1) and `limit` (1 to 100) when set.
pub(crate) fn check_paging(page: Option<i32>, limit: Option<i32>) -> Result<(), VopError> {
    if let Some(page) = page {
        crate::request::ensure(page >= 1, "page", || {
            format!("expected 1 or more, got {page}")
        })?;
    }
    if let Some(limit) = limit {
        crate::request::ensure((1..=MAX_LIMIT).contains(&limit), "limit", || {
            format!("expected 1 to {MAX_LIMIT}, got {limit}")
        })?;
    }
    Ok(())
}

/// Fails when a required string argument is empty.
pub(crate) fn required(field: &str, value: &str) -> Result<(), VopError> {
    crate::request::ensure(!value.trim().is_empty(), field, || "required".into())
}

/// Fails when the vendor id is not positive.
pub(crate) fn check_vendor(vendor_id: i64) -> Result<(), VopError> {
    crate::request::ensure(vendor_id > 0, "vendor_id", || {
        format!("expected a positive vendor id, got {vendor_id}")
    })
}

/// A list request that pages with `page`/`limit`.
pub trait Paged: VopRequest + Clone {
    type Item;

    /// Sets the page and the limit.
    fn at_page(&self, page: i32, limit: i32) -> Self;

    /// The items and the total of one answer.
    fn split(output: Self::Output) -> (Vec<Self::Item>, i64);
}

/// Fetches every page of a list, 100 at a time.
pub async fn fetch_all<R: Paged>(
    client: &VopClient,
    request: &R,
) -> Result<Vec<R::Item>, VopError> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let (items, total) = R::split(client.execute(&request.at_page(page, MAX_LIMIT)).await?);
        let got = items.len();
        all.extend(items);
        if got < MAX_LIMIT as usize || all.len() as i64 >= total {
            return Ok(all);
        }
        page += 1;
    }
}

/// Deserializes a number that VOP may send as a JSON number or a string.
pub(crate) fn de_lenient_i64<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Raw::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got {text:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warehouses_by_name() {
        assert_eq!(
            Warehouse::parse("vip_nh").expect("known"),
            Warehouse::VIP_NH
        );
        assert_eq!(
            serde_json::to_string(&Warehouse::VIP_HK).expect("ser"),
            "\"VIP_HK\""
        );
        let err = Warehouse::parse("VIP_XX").expect_err("unknown");
        assert!(err.to_string().contains("VIP_SY"), "{err}");
    }
}
