//! The one place HTTP clients are configured, so that every crate gets the same TLS setup.

/// A `reqwest` client builder that is safe to build anywhere in shopbridge.
///
/// reqwest is compiled without a bundled TLS crypto provider (its default, aws-lc, needs cmake
/// and a C build); ring is installed as the process-wide provider here, which is a no-op when
/// one is already installed. Every HTTP client in shopbridge starts from this builder.
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
