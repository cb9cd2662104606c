//! polyapi's request signature (MD5 of secret + sorted name/value pairs + secret, lower-cased)
//! and the AES-128-ECB envelope older clients use for `Differ.JH.SyncAccount`.

use aes::Aes128;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use md5::{Digest, Md5};

/// The sign of `params` (every parameter but `sign` and `contextid`, which are skipped here):
/// names sorted, `name + value` concatenated, wrapped in the secret, lower-cased, MD5, lower hex.
pub fn sign<'a>(secret: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("sign") && !name.eq_ignore_ascii_case("contextid")
        })
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut text = String::from(secret);
    for (name, value) in sorted {
        text.push_str(name);
        text.push_str(value);
    }
    text.push_str(secret);
    hex::encode(Md5::digest(text.to_lowercase().as_bytes()))
}

/// The AES key older clients derive from the app secret: bytes 4..12 of MD5(secret), written as
/// their 16 lower-case hex characters, used as ASCII (spec §3.2 TV5).
fn account_key(app_secret: &str) -> [u8; 16] {
    let digest = hex::encode(Md5::digest(app_secret.as_bytes()));
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest.as_bytes()[8..24]);
    key
}

/// Encrypts a SyncAccount body: AES-128-ECB with PKCS#7 padding, upper-case hex.
pub fn encrypt_account(app_secret: &str, plaintext: &str) -> String {
    let cipher = Aes128::new(GenericArray::from_slice(&account_key(app_secret)));
    let mut bytes = plaintext.as_bytes().to_vec();
    let pad = 16 - bytes.len() % 16;
    bytes.extend(std::iter::repeat_n(pad as u8, pad));
    for block in bytes.chunks_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    hex::encode_upper(bytes)
}

/// Decrypts what [`encrypt_account`] produced; `None` for anything that is not such a text.
pub fn decrypt_account(app_secret: &str, hex_text: &str) -> Option<String> {
    let mut bytes = hex::decode(hex_text.trim()).ok()?;
    if bytes.is_empty() || bytes.len() % 16 != 0 {
        return None;
    }
    let cipher = Aes128::new(GenericArray::from_slice(&account_key(app_secret)));
    for block in bytes.chunks_mut(16) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
    let pad = usize::from(*bytes.last()?);
    if pad == 0
        || pad > 16
        || bytes[bytes.len() - pad..]
            .iter()
            .any(|&b| usize::from(b) != pad)
    {
        return None;
    }
    bytes.truncate(bytes.len() - pad);
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TV1: the 自建商城 form, inputs from a public demo (appkey = token = secret).
    #[test]
    fn tv1_shop_form() {
        let key = "8085dbc11647487ea3d9425f9102eb1c";
        let biz = r#"{"OrderStatus":"JH_99","PlatOrderNo":"","StartTime":"2023-04-18 14:34:49","EndTime":"2023-04-25 14:34:49","TimeType":"JH_02","PageIndex":1,"PageSize":30}"#;
        let params = [
            ("method", "Differ.JH.Business.GetOrder"),
            ("appkey", key),
            ("token", key),
            ("bizcontent", biz),
        ];
        assert_eq!(sign(key, params), "08b95e1b2f5f4814f0f7a015c691939f");
    }

    fn tv2_params() -> Vec<(&'static str, &'static str)> {
        vec![
            ("appkey", "438b2f6ff103422a98a9349507293bb2"),
            ("token", "9415c33b04d24c7dae320b0185f42fb0"),
            ("method", "Differ.JH.Business.DownloadProduct"),
            ("platid", "500"),
            ("version", "1.1"),
            ("contenttype", "json"),
            ("timestamp", "2013-02-15 13:32:30"),
            ("bizcontent", r#"{"a":"a1","b":"b1"}"#),
        ]
    }

    /// TV2: the gateway form with the doc page's example values.
    #[test]
    fn tv2_gateway_form_ignores_sign_and_contextid() {
        let secret = "5ee2084de90043be989d4d99d0dd0eaa";
        assert_eq!(
            sign(secret, tv2_params()),
            "16a5815aa39f21b4a7948dea4216b3a5"
        );
        let mut with_extras = tv2_params();
        with_extras.push(("contextid", "20130206454048"));
        with_extras.push(("sign", "anything"));
        assert_eq!(
            sign(secret, with_extras),
            "16a5815aa39f21b4a7948dea4216b3a5"
        );
    }

    /// TV3: the same values in the 4-parameter 自建商城 form.
    #[test]
    fn tv3_four_parameters() {
        let params: Vec<_> = tv2_params()
            .into_iter()
            .filter(|(name, _)| matches!(*name, "method" | "appkey" | "token" | "bizcontent"))
            .collect();
        assert_eq!(
            sign("5ee2084de90043be989d4d99d0dd0eaa", params),
            "9c8158a14fafd8e49ad6e7a8143fcce5"
        );
    }

    /// TV5: SyncAccount's AES envelope.
    #[test]
    fn tv5_account_envelope() {
        let secret = "5ee2084de90043be989d4d99d0dd0eaa";
        assert_eq!(&account_key(secret), b"cc76b5042a2ae463");
        let sealed = encrypt_account(secret, r#"{"a":"a1","b":"b1"}"#);
        assert_eq!(
            sealed,
            "5E309FC10461C44CF62554E0BE5DFF16447A35830F3084F40ABB042D23F381EF"
        );
        assert_eq!(
            decrypt_account(secret, &sealed).as_deref(),
            Some(r#"{"a":"a1","b":"b1"}"#)
        );
        assert_eq!(decrypt_account(secret, "00"), None);
        assert_eq!(decrypt_account("other", &sealed), None);
    }
}
