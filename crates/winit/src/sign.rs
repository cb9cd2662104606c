//! Winit's two signatures: `sign` (the seller's token) and `client_sign` (the application's
//! client secret), both upper-hex MD5 over the same string with the secret at both ends.
//!
//! `S = secret + "action" + action + "app_key" + app_key + "data" + DATA + "format" + format +
//! "platform" + platform + "sign_method" + sign_method + "timestamp" + timestamp + "version" +
//! version + secret`, where DATA is `data` with object keys sorted recursively, compact, raw UTF-8.

use md5::{Digest, Md5};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// The signed fields of an envelope (everything but `client_id`, `language` and the signs).
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub action: &'a str,
    pub app_key: &'a str,
    /// The canonical `data` (see [`canonical_data`]).
    pub data: &'a str,
    pub format: &'a str,
    pub platform: &'a str,
    pub sign_method: &'a str,
    pub timestamp: &'a str,
    pub version: &'a str,
}

/// `data` as Winit's server canonicalizes it: keys sorted (recursively, by code point), compact
/// separators, non-ASCII as raw UTF-8. `None` (no data) is the empty string.
pub fn canonical_data(data: Option<&Value>) -> String {
    // serde_json's map is ordered by key (no `preserve_order`), and it writes compact, raw UTF-8.
    data.map(Value::to_string).unwrap_or_default()
}

/// The string that is hashed, for debugging a sign mismatch (it contains the secret: never log it).
pub fn signing_string(secret: &str, fields: &Signed<'_>) -> String {
    format!(
        "{secret}action{}app_key{}data{}format{}platform{}sign_method{}timestamp{}version{}{secret}",
        fields.action,
        fields.app_key,
        fields.data,
        fields.format,
        fields.platform,
        fields.sign_method,
        fields.timestamp,
        fields.version
    )
}

/// Upper-case hex MD5 of the signing string with `secret` (the token or the client secret).
pub fn sign(secret: &SecretString, fields: &Signed<'_>) -> String {
    let digest = Md5::digest(signing_string(secret.expose_secret(), fields).as_bytes());
    hex::encode_upper(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TOKEN: &str = "89435277FA3BA272DE795559998E-";
    const CLIENT_SECRET: &str =
        "ODQ4YWY0ZWETMZLLZC00MJFJLTG3NWUTYTMWNGIYMJFINJFJODK4OTMZNZY1NDA3MJE3MA==";

    fn fields<'a>(action: &'a str, data: &'a str) -> Signed<'a> {
        Signed {
            action,
            app_key: "rebecca",
            data,
            format: "json",
            platform: "OWNERERP",
            sign_method: "md5",
            timestamp: "2024-01-01 12:00:00",
            version: "1.0",
        }
    }

    #[test]
    fn vector_c_query_warehouse_with_empty_data() {
        let data = canonical_data(Some(&json!({})));
        assert_eq!(data, "{}");
        assert_eq!(
            signing_string(TOKEN, &fields("queryWarehouse", &data)),
            "89435277FA3BA272DE795559998E-actionqueryWarehouseapp_keyrebeccadata{}formatjsonplatformOWNERERPsign_methodmd5timestamp2024-01-01 12:00:00version1.089435277FA3BA272DE795559998E-"
        );
        assert_eq!(
            sign(&TOKEN.into(), &fields("queryWarehouse", &data)),
            "554B618743F9C1FA987F34E903C689D8"
        );
        assert_eq!(
            sign(&CLIENT_SECRET.into(), &fields("queryWarehouse", &data)),
            "6496CF4FBB1ECBE85D4E2DDAB081FA20"
        );
    }

    #[test]
    fn vector_c_prime_null_data_signs_the_empty_string() {
        let data = canonical_data(None);
        assert_eq!(
            sign(&TOKEN.into(), &fields("queryWarehouse", &data)),
            "2DBF8D936EBA19B98139F2B9D4E92ED4"
        );
    }

    #[test]
    fn vector_d_create_outbound_order_with_unsorted_unicode_data() {
        // Keys deliberately out of order: the canonical form sorts them.
        let data = json!({
            "zipCode": "90001", "warehouseID": 1000008, "state": "US", "sellerOrderNo": "SO-1001",
            "repeatable": "N", "region": "CA", "recipientName": "José Müller",
            "productList": [{"specification": "", "productNum": "2", "productCode": "SKU-1",
                "eBayTransactionID": "", "eBaySellerID": "", "eBayItemID": "", "eBayBuyerID": ""}],
            "phoneNum": "5551234567", "insuranceTypeID": 1000000, "emailAddress": "a@b.com",
            "eBayOrderID": "", "doorplateNumbers": "1", "deliveryWayID": "1000020", "city": "Los Angeles",
            "address2": "", "address1": "1 Main St"
        });
        let canonical = canonical_data(Some(&data));
        assert_eq!(
            canonical,
            r#"{"address1":"1 Main St","address2":"","city":"Los Angeles","deliveryWayID":"1000020","doorplateNumbers":"1","eBayOrderID":"","emailAddress":"a@b.com","insuranceTypeID":1000000,"phoneNum":"5551234567","productList":[{"eBayBuyerID":"","eBayItemID":"","eBaySellerID":"","eBayTransactionID":"","productCode":"SKU-1","productNum":"2","specification":""}],"recipientName":"José Müller","region":"CA","repeatable":"N","sellerOrderNo":"SO-1001","state":"US","warehouseID":1000008,"zipCode":"90001"}"#
        );
        assert_eq!(
            sign(&TOKEN.into(), &fields("createOutboundOrder", &canonical)),
            "6946F49138EC689A1A0CB289C0EF446E"
        );
        assert_eq!(
            sign(
                &CLIENT_SECRET.into(),
                &fields("createOutboundOrder", &canonical)
            ),
            "9C3505C9AF042BEE7F0244DF475D66DB"
        );
    }
}
