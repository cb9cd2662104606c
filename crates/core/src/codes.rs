//! polyapi's codes as enums, one table each: order status, refund status, shop type, and the
//! logistics carriers (loaded from `data/logistics.tsv`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a code enum with its wire code and Chinese description, in one table.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $text:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire code (`JH_02`...).
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// The platform's description (等待卖家发货...).
            pub fn description(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// Parses a wire code, case-insensitively (ERPs send `jh_02` too).
            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code().eq_ignore_ascii_case(code.trim()))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = String::deserialize(deserializer)?;
                Self::from_code(&code).ok_or_else(|| {
                    let known: Vec<&str> = Self::ALL.iter().map(|v| v.code()).collect();
                    serde::de::Error::custom(format!("unknown {} {code:?}; expected one of {}", stringify!($name), known.join(", ")))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum! {
    /// polyapi `tradeStatus` (GetOrder), including the 唯品会JITX ones.
    OrderStatus {
        WaitBuyerPay = "JH_01", "等待买家付款";
        WaitSellerSend = "JH_02", "等待卖家发货";
        WaitBuyerConfirm = "JH_03", "等待买家确认收货";
        TradeSuccess = "JH_04", "交易成功";
        TradeClosed = "JH_05", "交易关闭";
        Paused = "JH_06", "已暂停";
        Locked = "JH_07", "已锁定";
        PartSent = "JH_08", "卖家部分发货";
        Frozen = "JH_09", "订单冻结";
        OutOfStock = "JH_10", "缺货订单";
        Complaint = "JH_12", "投诉订单";
        Split = "JH_13", "已拆单";
        ReturnOrExchange = "JH_14", "退换货订单";
        AwaitingInvoice = "JH_15", "待开票";
        Processing = "JH_17", "处理中";
        CancelledBeforeShipping = "JH_18", "未发货取消";
        CancelledAfterShipping = "JH_19", "已发货取消";
        CancelledAfterCollection = "JH_20", "已揽收取消";
        NoShippingNeeded = "JH_21", "无需发货";
        CancelPendingReview = "JH_22", "取消待审核";
        Rejected = "JH_23", "已拒收";
        ShippingForbidden = "JH_24", "禁发订单";
        Other = "JH_98", "其他";
        All = "JH_99", "所有订单";
    }
}

code_enum! {
    /// polyapi `refundStatus` (CheckRefundStatus, GetRefund).
    RefundStatus {
        BuyerRequested = "JH_01", "买家已申请退款等待卖家同意";
        SellerAgreedAwaitingReturn = "JH_02", "卖家已同意等待买家退货";
        BuyerReturnedAwaitingSeller = "JH_03", "买家已退货等待卖家确认收货";
        SellerRefused = "JH_04", "卖家拒绝退款";
        Closed = "JH_05", "退款关闭";
        Refunded = "JH_06", "退款成功";
        NoRefund = "JH_07", "没有退款";
        Refunding = "JH_08", "退款中";
        PartlyRefunded = "JH_09", "部分退款";
        PendingReview = "JH_10", "待审核";
        Other = "JH_99", "其他";
    }
}

code_enum! {
    /// polyapi `shoptype`.
    ShopType {
        Normal = "JH_001", "普通";
        Distribution = "JH_002", "分销";
        Dealer = "JH_003", "经销";
        ThirdPartyLogistics = "JH_004", "3PL";
        Jitx = "JH_005", "JITX";
        Periodic = "JH_006", "周期送";
    }
}

/// A carrier of polyapi's `LogisticType` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Carrier {
    pub code: &'static str,
    pub name: &'static str,
}

const LOGISTICS_TSV: &str = include_str!("../data/logistics.tsv");

struct LogisticsTable {
    carriers: Vec<Carrier>,
    by_code: HashMap<String, usize>,
    by_name: HashMap<&'static str, usize>,
}

fn logistics() -> &'static LogisticsTable {
    static TABLE: OnceLock<LogisticsTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let carriers: Vec<Carrier> = LOGISTICS_TSV
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| line.split_once('\t'))
            .map(|(code, name)| Carrier { code, name })
            .collect();
        let by_code = carriers
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.to_ascii_uppercase(), i))
            .collect();
        let by_name = carriers
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, i))
            .collect();
        LogisticsTable {
            carriers,
            by_code,
            by_name,
        }
    })
}

/// The carrier of a `LogisticType` code (case-insensitive).
pub fn carrier_by_code(code: &str) -> Option<&'static Carrier> {
    let table = logistics();
    table
        .by_code
        .get(&code.trim().to_ascii_uppercase())
        .map(|&i| &table.carriers[i])
}

/// The carrier with this name (顺丰, 中通...).
pub fn carrier_by_name(name: &str) -> Option<&'static Carrier> {
    let table = logistics();
    table.by_name.get(name.trim()).map(|&i| &table.carriers[i])
}

/// Every known carrier.
pub fn carriers() -> &'static [Carrier] {
    &logistics().carriers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_case_insensitively() {
        assert_eq!(
            OrderStatus::from_code("jh_02"),
            Some(OrderStatus::WaitSellerSend)
        );
        assert_eq!(OrderStatus::CancelledAfterCollection.code(), "JH_20");
        assert_eq!(OrderStatus::ShippingForbidden.description(), "禁发订单");
        assert_eq!(
            RefundStatus::from_code("JH_07"),
            Some(RefundStatus::NoRefund)
        );
        assert_eq!(ShopType::Jitx.code(), "JH_005");
        let json = serde_json::to_string(&OrderStatus::All).expect("ser");
        assert_eq!(json, "\"JH_99\"");
        let err = serde_json::from_str::<RefundStatus>("\"JH_11\"").expect_err("unknown");
        assert!(err.to_string().contains("JH_10"), "{err}");
    }

    #[test]
    fn logistics_table_is_data() {
        assert_eq!(carrier_by_code("JH_014").map(|c| c.name), Some("顺丰"));
        assert_eq!(
            carrier_by_code("jh_logisctcs_jitusudi").map(|c| c.name),
            Some("极兔速递")
        );
        assert_eq!(carrier_by_name("中通").map(|c| c.code), Some("JH_006"));
        assert!(carrier_by_code("JH_999").is_none());
        assert!(carriers().len() > 120);
        let mut codes: Vec<&str> = carriers().iter().map(|c| c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), carriers().len(), "codes are unique");
    }
}
