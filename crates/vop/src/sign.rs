//! The VOP request signature: upper-hex HMAC-MD5 over the sorted system parameters and the body.
//!
//! Official PHP SDK `OspStub::createRequestSign`: every non-empty system parameter except
//! `sign` is concatenated as `name + value` in ASCII order of the names, the exact request body
//! bytes are appended without a separator, and the result is HMAC-MD5'd with the app secret.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use md5::Md5;
use secrecy::{ExposeSecret, SecretString};

/// The string that is signed: `k1v1k2v2...` over sorted non-empty parameters, then the body.
///
/// `sign` itself is never part of it, whatever the caller passes.
pub fn signing_string<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &str,
) -> String {
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(name, value)| *name != "sign" && !value.is_empty())
        .collect();
    let mut out = String::with_capacity(body.len() + 256);
    for (name, value) in sorted {
        out.push_str(name);
        out.push_str(value);
    }
    out.push_str(body);
    out
}

/// Upper-case hex HMAC-MD5 of `message` keyed with the app secret.
pub fn hmac_md5_upper_hex(secret: &SecretString, message: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Md5>::new_from_slice(secret.expose_secret().as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(message.as_bytes());
    hex::encode_upper(mac.finalize().into_bytes())
}

/// Signs a request: system parameters (any order, empty ones skipped) plus the exact body.
///
/// ```
/// use secrecy::SecretString;
/// // Vector V5 of the VOP spec.
/// let params = [
///     ("service", "vipapis.delivery.JitDeliveryService"),
///     ("method", "getPoList"),
///     ("version", "1.0.0"),
///     ("timestamp", "1700000000"),
///     ("format", "json"),
///     ("appKey", "testappkey"),
/// ];
/// let body = r#"{"vendor_id":"550","page":1,"limit":50}"#;
/// let sign = shopbridge_vop::sign::sign(&SecretString::from("testappsecret"), params, body);
/// assert_eq!(sign, "549818CAA17E7914186C861B012680E7");
/// ```
pub fn sign<'a>(
    secret: &SecretString,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &str,
) -> String {
    hmac_md5_upper_hex(secret, &signing_string(params, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2_BODY: &str =
        r#"{"goodsIdList":["6919190827778651268"],"chanTag":"pid_1","requestId":"req-0001"}"#;

    fn secret() -> SecretString {
        SecretString::from("testappsecret")
    }

    fn v2_params(format: &'static str) -> Vec<(&'static str, &'static str)> {
        vec![
            ("service", "com.vip.adp.api.open.service.UnionUrlService"),
            ("method", "genByGoodsId"),
            ("version", "1.0.0"),
            ("timestamp", "1700000000"),
            ("format", format),
            ("appKey", "testappkey"),
        ]
    }

    #[test]
    fn vector_v2_union_gen_by_goods_id() {
        assert_eq!(
            sign(&secret(), v2_params("json"), V2_BODY),
            "16F7350B386E1D2C0D9D8BDD37CA2E64"
        );
    }

    #[test]
    fn vector_v3_format_case_is_signed_as_sent() {
        assert_eq!(
            sign(&secret(), v2_params("JSON"), V2_BODY),
            "E3863B17752C818555328BF643F6EA1A"
        );
    }

    #[test]
    fn vector_v4_access_token_and_language() {
        let mut params = v2_params("json");
        params.retain(|(name, _)| *name != "method");
        params.extend([
            ("method", "genByGoodsIdWithOauth"),
            ("accessToken", "testtoken"),
            ("language", "zh"),
        ]);
        assert_eq!(
            sign(&secret(), params, V2_BODY),
            "FC87273A91B5C6ACF592748046B29315"
        );
    }

    #[test]
    fn vector_v5_jit_get_po_list() {
        let params = [
            ("service", "vipapis.delivery.JitDeliveryService"),
            ("method", "getPoList"),
            ("version", "1.0.0"),
            ("timestamp", "1700000000"),
            ("format", "json"),
            ("appKey", "testappkey"),
        ];
        assert_eq!(
            sign(
                &secret(),
                params,
                r#"{"vendor_id":"550","page":1,"limit":50}"#
            ),
            "549818CAA17E7914186C861B012680E7"
        );
    }

    #[test]
    fn empty_parameters_and_sign_are_skipped() {
        let with_empty = [
            ("appKey", "k"),
            ("accessToken", ""),
            ("sign", "X"),
            ("format", "json"),
        ];
        assert_eq!(signing_string(with_empty, "{}"), "appKeykformatjson{}");
    }
}
