//! Certificates are still checked against the system's roots now that those are read on first use.

use std::net::TcpListener;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use shopbridge_core::http::{
    SystemRootsOnFirstUse, client_builder, client_builder_with_extra_roots,
};

/// A certificate for `localhost` that no root vouches for, and its key.
const UNTRUSTED_CERT: &[u8] = include_bytes!("fixtures/untrusted-localhost.cert.der");
const UNTRUSTED_KEY: &[u8] = include_bytes!("fixtures/untrusted-localhost.key.der");
/// A key of no certificate.
const UNRELATED_KEY: &[u8] = include_bytes!("fixtures/unrelated.key.der");

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

/// The certificate, and the key a server signs its handshake with.
fn certified(key: &[u8]) -> Arc<rustls::sign::CertifiedKey> {
    let provider = rustls::crypto::ring::default_provider();
    let key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec())))
        .expect("a test key");
    Arc::new(rustls::sign::CertifiedKey::new(
        vec![CertificateDer::from(UNTRUSTED_CERT.to_vec())],
        key,
    ))
}

/// A server presenting one certified key, whether or not the key is the certificate's.
#[derive(Debug)]
struct Presents(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Presents {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A TLS server for one connection on a thread of its own: it completes the handshake and
/// answers one HTTP/1.1 request with `200 ok`. Its port, and what it made of the connection.
fn serve_once(key: &[u8]) -> (u16, std::thread::JoinHandle<Result<(), String>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Presents(certified(key))));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let server = std::thread::spawn(move || -> Result<(), String> {
        use std::io::{Read, Write};
        let (mut tcp, _) = listener.accept().map_err(|e| e.to_string())?;
        let mut tls = rustls::ServerConnection::new(Arc::new(config)).map_err(|e| e.to_string())?;
        let mut stream = rustls::Stream::new(&mut tls, &mut tcp);
        let mut request = Vec::new();
        let mut chunk = [0_u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let read = stream.read(&mut chunk).map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the client closed the connection".into());
            }
            request.extend_from_slice(&chunk[..read]);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .map_err(|e| e.to_string())?;
        stream.flush().map_err(|e| e.to_string())
    });
    (port, server)
}

/// A client that trusts the fixture's certificate beside the system's roots.
fn trusting_the_certificate() -> reqwest::Client {
    client_builder_with_extra_roots(vec![CertificateDer::from(UNTRUSTED_CERT.to_vec())])
        .build()
        .expect("client")
}

#[tokio::test]
async fn a_client_trusting_the_certificate_completes_the_handshake() {
    let (port, server) = serve_once(UNTRUSTED_KEY);
    let client = trusting_the_certificate();
    let answer = client
        .get(format!("https://localhost:{port}/"))
        .send()
        .await
        .expect("a trusted certificate and a handshake signed by its key");
    assert_eq!(answer.text().await.expect("body"), "ok");
    server.join().expect("server thread").expect("served");
}

#[tokio::test]
async fn a_server_without_the_certificates_key_is_refused() {
    // The certificate is trusted, but the handshake is signed by another key: only the
    // handshake's signature check can refuse it.
    let (port, server) = serve_once(UNRELATED_KEY);
    let client = trusting_the_certificate();
    let error = client
        .get(format!("https://localhost:{port}/"))
        .send()
        .await
        .expect_err("the handshake's signature is refused");
    let refused = tls_error_in(&error).unwrap_or_else(|| panic!("no TLS error in {error:?}"));
    assert!(
        matches!(
            refused,
            rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)
        ),
        "{refused:?}"
    );
    assert!(server.join().expect("server thread").is_err());
}

#[tokio::test]
async fn a_client_refuses_a_server_no_root_vouches_for() {
    let (port, server) = serve_once(UNTRUSTED_KEY);
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
