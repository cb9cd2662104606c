//! Connector capabilities: one trait per thing a platform may do, and the typed error a
//! connector answers when it cannot.

use async_trait::async_trait;

use crate::Platform;
use crate::error::ErrorClass;
use crate::model::{
    Order, OrderQuery, Page, Product, ProductQuery, RefundCheck, Shipment, ShipmentResult,
    StockResult, StockUpdate,
};

/// The unified operations (polyapi's 订单下载, 商品下载, 发货同步, 库存同步, 退款检查).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Orders,
    Products,
    Shipping,
    Stock,
    Refunds,
}

/// A connector's failure, classified so that callers can act without knowing the platform.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{platform}: {message}")]
pub struct ConnectorError {
    pub platform: Platform,
    pub class: ErrorClass,
    /// The platform's own code, when it gave one.
    pub code: Option<String>,
    pub message: String,
    /// The SDK's error this one classifies, kept for `source()`.
    #[source]
    pub cause: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

/// Two failures are the same when they say the same; the cause is not compared.
impl PartialEq for ConnectorError {
    fn eq(&self, other: &Self) -> bool {
        (self.platform, self.class, &self.code, &self.message)
            == (other.platform, other.class, &other.code, &other.message)
    }
}

impl Eq for ConnectorError {}

impl ConnectorError {
    /// The capability is not offered by this platform's connector.
    pub fn unsupported(platform: Platform, capability: Capability) -> Self {
        Self {
            platform,
            class: ErrorClass::Unsupported,
            code: None,
            message: format!("{capability:?} is not supported by the {platform} connector"),
            cause: None,
        }
    }

    /// A request the connector refuses before calling the platform.
    pub fn invalid(platform: Platform, message: impl Into<String>) -> Self {
        Self {
            platform,
            class: ErrorClass::InvalidRequest,
            code: None,
            message: message.into(),
            cause: None,
        }
    }
}

/// 订单下载
#[async_trait]
pub trait OrderSource: Send + Sync {
    async fn get_orders(&self, query: &OrderQuery) -> Result<Page<Order>, ConnectorError>;
}

/// 商品下载
#[async_trait]
pub trait ProductSource: Send + Sync {
    async fn download_products(
        &self,
        query: &ProductQuery,
    ) -> Result<Page<Product>, ConnectorError>;
}

/// 发货同步
#[async_trait]
pub trait Shipping: Send + Sync {
    async fn send(&self, shipment: &Shipment) -> Result<ShipmentResult, ConnectorError>;
}

/// 库存同步
#[async_trait]
pub trait StockSync: Send + Sync {
    async fn sync_stock(&self, update: &StockUpdate) -> Result<StockResult, ConnectorError>;
}

/// 退款检查
#[async_trait]
pub trait RefundChecker: Send + Sync {
    async fn check_refund(&self, plat_order_no: &str) -> Result<RefundCheck, ConnectorError>;
}

/// A platform connector: which capabilities it offers. A missing one is a typed
/// [`ConnectorError`] of class `Unsupported`, never a panic.
pub trait Connector: Send + Sync {
    fn platform(&self) -> Platform;

    fn orders(&self) -> Result<&dyn OrderSource, ConnectorError> {
        Err(ConnectorError::unsupported(
            self.platform(),
            Capability::Orders,
        ))
    }

    fn products(&self) -> Result<&dyn ProductSource, ConnectorError> {
        Err(ConnectorError::unsupported(
            self.platform(),
            Capability::Products,
        ))
    }

    fn shipping(&self) -> Result<&dyn Shipping, ConnectorError> {
        Err(ConnectorError::unsupported(
            self.platform(),
            Capability::Shipping,
        ))
    }

    fn stock(&self) -> Result<&dyn StockSync, ConnectorError> {
        Err(ConnectorError::unsupported(
            self.platform(),
            Capability::Stock,
        ))
    }

    fn refunds(&self) -> Result<&dyn RefundChecker, ConnectorError> {
        Err(ConnectorError::unsupported(
            self.platform(),
            Capability::Refunds,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;

    impl Connector for Nothing {
        fn platform(&self) -> Platform {
            Platform::Winit
        }
    }

    #[test]
    fn missing_capabilities_are_typed_errors() {
        let err = Nothing.refunds().err().expect("unsupported");
        assert_eq!(err.class, ErrorClass::Unsupported);
        assert!(
            err.to_string()
                .contains("Refunds is not supported by the winit connector"),
            "{err}"
        );
        assert!(Nothing.orders().is_err() && Nothing.stock().is_err());
    }
}
