//! The one place HTTP clients are configured, so that every crate gets the same TLS setup.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// A `reqwest` client builder that is safe to build anywhere in shopbridge.
///
/// reqwest is compiled without a bundled TLS crypto provider (its default, aws-lc, needs cmake
/// and a C build); ring is the provider here. Certificates are checked against the system's
/// roots, as reqwest's own default does, but the roots are read at the first TLS handshake
/// rather than when the client is built: reading and parsing them costs about 50 ms of CPU,
/// which every command paid at start even when it only ever spoke plain HTTP (the sandbox,
/// a local gateway). Every HTTP client in shopbridge starts from this builder. Since the TLS
/// settings are made here, reqwest's own TLS options (extra roots, TLS versions, SNI) do not
/// apply to a client built from it: change them in [`tls_config`], or trust a private root
/// with [`client_builder_with_extra_roots`].
pub fn client_builder() -> reqwest::ClientBuilder {
    client_builder_with_extra_roots(Vec::new())
}

/// [`client_builder`] trusting `extra_roots` beside the system's (a private certificate
/// authority in front of a gateway, or a test's own).
pub fn client_builder_with_extra_roots(
    extra_roots: Vec<CertificateDer<'static>>,
) -> reqwest::ClientBuilder {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Some crates reached through reqwest look the process-wide provider up; installing it is
    // a no-op when one is already installed.
    let _ = CryptoProvider::install_default(rustls::crypto::ring::default_provider());
    let builder = reqwest::Client::builder();
    match tls_config(provider, extra_roots) {
        Ok(config) => builder.tls_backend_preconfigured(config),
        // ring supports both default TLS versions, so this is not expected; reqwest's own
        // setup (the same checks, roots read now) is then the answer.
        Err(_) => builder,
    }
}

/// The TLS settings reqwest would make by default (TLS 1.2 and 1.3, SNI, HTTP/2 offered before
/// HTTP/1.1), with the system roots read on first use.
fn tls_config(
    provider: Arc<CryptoProvider>,
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let verifier = Arc::new(SystemRootsOnFirstUse::with_extra_roots(
        provider.clone(),
        extra_roots,
    ));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's certificate verifier, built when a server's certificate is first checked.
///
/// Signatures of the handshake are checked without the roots, by the provider's algorithms, as
/// the platform verifier itself does; only the chain to a root needs them.
#[derive(Debug)]
pub struct SystemRootsOnFirstUse {
    provider: Arc<CryptoProvider>,
    /// Roots trusted beside the system's.
    extra_roots: Vec<CertificateDer<'static>>,
    platform: OnceLock<rustls_platform_verifier::Verifier>,
}

impl SystemRootsOnFirstUse {
    /// A verifier that has not read the system's roots yet.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self::with_extra_roots(provider, Vec::new())
    }

    /// A verifier that will trust `extra_roots` beside the system's roots.
    pub fn with_extra_roots(
        provider: Arc<CryptoProvider>,
        extra_roots: Vec<CertificateDer<'static>>,
    ) -> Self {
        Self {
            provider,
            extra_roots,
            platform: OnceLock::new(),
        }
    }

    /// Whether the system's roots have been read (a certificate has been checked).
    pub fn roots_read(&self) -> bool {
        self.platform.get().is_some()
    }

    /// The platform's verifier, built at the first call that succeeds. If no root can be read
    /// (a file being replaced, no descriptor left), that handshake fails and the next reads them
    /// again; roots that were read are kept for the life of the client.
    fn platform(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        if let Some(platform) = self.platform.get() {
            return Ok(platform);
        }
        let built = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.extra_roots.iter().cloned(),
            self.provider.clone(),
        )?;
        Ok(self.platform.get_or_init(|| built))
    }
}

impl ServerCertVerifier for SystemRootsOnFirstUse {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.platform()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
