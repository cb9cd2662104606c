//! Certificates are still checked against the system's roots now that those are read on first use.

use std::net::TcpListener;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use shopbridge_core::http::{SystemRootsOnFirstUse, client_builder};

/// A certificate for `localhost` that no root vouches for, and its key.
const UNTRUSTED_CERT: &[u8] = include_bytes!("fixtures/untrusted-localhost.cert.der");
const UNTRUSTED_KEY: &[u8] = include_bytes!("fixtures/untrusted-localhost.key.der");

fn refuses_as_untrusted(error: &rustls::Error) -> bool {
    match error {
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => true,
        // A machine without any system roots refuses every certificate, this one included.
        rustls::Error::General(text) => text.contains("No CA certificates"),
        _ => false,
    }
}

/// rustls's error in an error's chain. It reaches reqwest inside I/O errors, whose `source`
/// skips the error they wrap.
fn tls_error_in(error: &(dyn std::error::Error + 'static)) -> Option<rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls.clone());
    }
    let wrapped = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        .and_then(|inner| tls_error_in(inner));
    wrapped.or_else(|| error.source().and_then(tls_error_in))
}

#[test]
fn the_roots_are_read_when_a_certificate_is_first_checked() {
    let verifier = SystemRootsOnFirstUse::new(Arc::new(rustls::crypto::ring::default_provider()));
    assert!(!verifier.supported_verify_schemes().is_empty());
    assert!(!verifier.roots_read(), "nothing has been checked yet");

    let name = ServerName::try_from("localhost").expect("a host name");
    let error = verifier
        .verify_server_cert(
            &CertificateDer::from(UNTRUSTED_CERT),
            &[],
            &name,
            &[],
            UnixTime::now(),
        )
        .expect_err("a self-signed certificate is not trusted");
    assert!(refuses_as_untrusted(&error), "{error:?}");
    // Read once they could be; a machine without roots reads them again next time.
    let no_roots = matches!(error, rustls::Error::General(_));
    assert_eq!(verifier.roots_read(), !no_roots);
}

#[tokio::test]
async fn a_client_refuses_a_server_no_root_vouches_for() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(UNTRUSTED_CERT.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(UNTRUSTED_KEY.to_vec())),
        )
        .expect("the test certificate and key");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let server = std::thread::spawn(move || -> Result<(), rustls::Error> {
        let (mut tcp, _) = listener
            .accept()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        let mut tls = rustls::ServerConnection::new(Arc::new(server_config))?;
        while tls.is_handshaking() {
            tls.complete_io(&mut tcp)
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        }
        Ok(())
    });

    let client = client_builder().build().expect("client");
    let error = client
        .get(format!("https://localhost:{port}/"))
        .send()
        .await
        .expect_err("the certificate is refused");
    let refused = tls_error_in(&error).unwrap_or_else(|| panic!("no TLS error in {error:?}"));
    assert!(refuses_as_untrusted(&refused), "{refused:?}");
    assert!(
        server.join().expect("server thread").is_err(),
        "the handshake did not complete"
    );
}
