//! `vipapis.product.VendorProductService`: the vendor's products by SKU (barcode) and by SPU.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{PRODUCT_SERVICE, check_paging, check_vendor, de_lenient_i64, paged, vop_method};
use crate::VopError;

/// `ProductSkuInfo` (the fields shopbridge reads; the rest is kept in `extra`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductSkuInfo {
    #[serde(deserialize_with = "de_lenient_i64")]
    pub vendor_id: Option<i64>,
    pub brand_id: Option<String>,
    pub product_name: Option<String>,
    pub category_id: Option<String>,
    /// 货号 (the SPU's article number).
    pub sn: Option<String>,
    pub barcode: String,
    pub size: Option<String>,
    pub color: Option<String>,
    pub market_price: Option<String>,
    pub sell_price: Option<String>,
    pub supply_price: Option<String>,
    pub tax_rate: Option<String>,
    pub images: Vec<String>,
    /// 1 上架 (on sale), 0 下架.
    #[serde(deserialize_with = "de_lenient_i64")]
    pub status: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ProductSpuInfo`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductSpuInfo {
    pub sn: String,
    pub brand_id: Option<String>,
    pub product_name: Option<String>,
    pub category_id: Option<String>,
    pub market_price: Option<String>,
    pub sell_price: Option<String>,
    #[serde(deserialize_with = "de_lenient_i64")]
    pub status: Option<i64>,
    pub barcodes: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductSkuList {
    pub products: Vec<ProductSkuInfo>,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductSpuList {
    pub products: Vec<ProductSpuInfo>,
    pub total: i64,
}

/// `multiGetProductSkuInfo`. `source`: 1 发布库 (default), 0 草稿库.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MultiGetProductSkuInfo {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<i32>,
}

impl MultiGetProductSkuInfo {
    pub fn new(vendor_id: i64) -> Self {
        Self {
            vendor_id,
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        check_paging(self.page, self.limit)?;
        if let Some(source) = self.source {
            crate::request::ensure(matches!(source, 0 | 1), "source", || {
                format!("expected 0 (草稿库) or 1 (发布库), got {source}")
            })?;
        }
        Ok(())
    }
}

vop_method!(
    MultiGetProductSkuInfo,
    PRODUCT_SERVICE,
    "multiGetProductSkuInfo",
    ProductSkuList
);

paged!(
    MultiGetProductSkuInfo,
    ProductSkuList,
    ProductSkuInfo,
    products
);

/// `multiGetProductSpuInfo`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MultiGetProductSpuInfo {
    pub vendor_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<i32>,
}

impl MultiGetProductSpuInfo {
    pub fn new(vendor_id: i64) -> Self {
        Self {
            vendor_id,
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), VopError> {
        check_vendor(self.vendor_id)?;
        check_paging(self.page, self.limit)
    }
}

vop_method!(
    MultiGetProductSpuInfo,
    PRODUCT_SERVICE,
    "multiGetProductSpuInfo",
    ProductSpuList
);

paged!(
    MultiGetProductSpuInfo,
    ProductSpuList,
    ProductSpuInfo,
    products
);
