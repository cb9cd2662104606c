//! The gateway's own signature check (independent of any client code).

use hmac::{Hmac, Mac};
use md5::Md5;

/// Recomputes the sign the way the official SDK computes it: every non-empty query parameter
/// except `sign`, sorted by name, as `name + value`, then the raw body; HMAC-MD5 keyed with the
/// app secret; upper-case hex.
pub fn expected_sign(secret: &str, query: &[(String, String)], body: &[u8]) -> String {
    let mut params: Vec<&(String, String)> = query
        .iter()
        .filter(|(name, value)| name != "sign" && !value.is_empty())
        .collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let Ok(mut mac) = Hmac::<Md5>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    for (name, value) in params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.update(body);
    hex::encode_upper(mac.finalize().into_bytes())
}

/// The names that took part in the sign, for a helpful mismatch message (values are not
/// echoed: the access token is one of them).
pub fn signed_names(query: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = query
        .iter()
        .filter(|(name, value)| name != "sign" && !value.is_empty())
        .map(|(name, _)| name.clone())
        .collect();
    names.sort();
    names
}

/// Constant-time comparison of two signs (case-insensitive hex).
pub fn signs_match(expected: &str, given: &str) -> bool {
    let given = given.to_ascii_uppercase();
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    const V2_BODY: &str =
        r#"{"goodsIdList":["6919190827778651268"],"chanTag":"pid_1","requestId":"req-0001"}"#;

    #[test]
    fn published_vectors_verify() {
        let base = [
            ("service", "com.vip.adp.api.open.service.UnionUrlService"),
            ("version", "1.0.0"),
            ("timestamp", "1700000000"),
            ("appKey", "testappkey"),
            ("sign", "ignored"),
        ];
        let mut v2 = q(&base);
        v2.extend(q(&[("method", "genByGoodsId"), ("format", "json")]));
        assert_eq!(
            expected_sign("testappsecret", &v2, V2_BODY.as_bytes()),
            "16F7350B386E1D2C0D9D8BDD37CA2E64"
        );
        let mut v3 = q(&base);
        v3.extend(q(&[("method", "genByGoodsId"), ("format", "JSON")]));
        assert_eq!(
            expected_sign("testappsecret", &v3, V2_BODY.as_bytes()),
            "E3863B17752C818555328BF643F6EA1A"
        );
        let mut v4 = q(&base);
        v4.extend(q(&[
            ("method", "genByGoodsIdWithOauth"),
            ("format", "json"),
            ("accessToken", "testtoken"),
            ("language", "zh"),
        ]));
        assert_eq!(
            expected_sign("testappsecret", &v4, V2_BODY.as_bytes()),
            "FC87273A91B5C6ACF592748046B29315"
        );
        let v5 = q(&[
            ("service", "vipapis.delivery.JitDeliveryService"),
            ("method", "getPoList"),
            ("version", "1.0.0"),
            ("timestamp", "1700000000"),
            ("format", "json"),
            ("appKey", "testappkey"),
        ]);
        assert_eq!(
            expected_sign(
                "testappsecret",
                &v5,
                br#"{"vendor_id":"550","page":1,"limit":50}"#
            ),
            "549818CAA17E7914186C861B012680E7"
        );
    }

    #[test]
    fn comparison_is_case_insensitive_and_exact() {
        assert!(signs_match("ABCDEF", "abcdef"));
        assert!(!signs_match("ABCDEF", "ABCDE0"));
        assert!(!signs_match("ABCDEF", "ABCDEF0"));
    }
}
