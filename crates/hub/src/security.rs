//! Defences that sit across the hub's front ends: where webhooks may be sent (no internal
//! addresses), throttling of failed credential guesses, and the headers that keep browsers from
//! framing or sniffing the hub's pages.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue, header};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_http::set_header::SetResponseHeaderLayer;

/// Why a webhook target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// What was sent is not repeated: it may hold a password.
    #[error("url: expected an http(s) URL with a host")]
    NotHttp,
    /// The address is kept for the hub's logs, not shown: a tenant must not learn the hub's
    /// network from the refusal.
    #[error(
        "url: {host} is not a public internet address; webhooks go to public addresses only \
         unless the hub is configured to allow private targets"
    )]
    Internal { host: String, address: IpAddr },
    #[error("url: {0} cannot be resolved")]
    Unresolvable(String),
    #[error("url: webhooks cannot target the hub itself ({0})")]
    TheHub(String),
    /// A password in a URL would be stored and shown in clear.
    #[error("url: no user name or password in the URL; the webhook's secret signs every delivery")]
    Credentials,
}

/// Where webhooks may be delivered. By default only to public addresses: a webhook is a request
/// the hub makes on a tenant's behalf, and its answers are shown to the tenant, so an internal
/// target would turn it into a port scanner of the hub's network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Loopback, private, link-local and unique-local targets allowed (development and tests).
    pub allow_private: bool,
    /// The hub's own origin (`scheme://host:port`), never a target.
    pub own_origin: Option<String>,
}

impl TargetPolicy {
    /// Private targets allowed: for development and tests, where receivers run on loopback.
    pub fn allow_private() -> Self {
        Self {
            allow_private: true,
            own_origin: None,
        }
    }

    pub fn with_own_origin(mut self, public_url: &str) -> Self {
        self.own_origin = url::Url::parse(public_url)
            .ok()
            .map(|url| url.origin().ascii_serialization());
        self
    }

    fn check_address(&self, host: &str, address: IpAddr) -> Result<(), TargetError> {
        if self.allow_private || is_public(address) {
            Ok(())
        } else {
            Err(TargetError::Internal {
                host: host.to_owned(),
                address,
            })
        }
    }

    /// Checks what can be told from the URL alone: scheme, host, a literal address (in any of
    /// the forms URL parsers accept, such as `2130706433` for 127.0.0.1), and the hub itself.
    pub fn check_url(&self, raw: &str) -> Result<url::Url, TargetError> {
        let parsed = url::Url::parse(raw)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .ok_or(TargetError::NotHttp)?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(TargetError::Credentials);
        }
        // `host.` and `host` are one name.
        let origin = parsed.origin().ascii_serialization();
        let origin = match parsed.host_str().filter(|host| host.ends_with('.')) {
            Some(host) => origin.replacen(host, host.trim_end_matches('.'), 1),
            None => origin,
        };
        if let Some(own) = &self.own_origin
            && origin == *own
        {
            return Err(TargetError::TheHub(own.clone()));
        }
        let host = parsed.host_str().unwrap_or_default().to_owned();
        match parsed.host() {
            Some(url::Host::Ipv4(v4)) => self.check_address(&host, IpAddr::V4(v4))?,
            Some(url::Host::Ipv6(v6)) => self.check_address(&host, IpAddr::V6(v6))?,
            Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
                self.check_address(&host, IpAddr::V4(Ipv4Addr::LOCALHOST))?
            }
            _ => {}
        }
        Ok(parsed)
    }

    /// [`Self::check_url`], then every address the host resolves to now.
    pub async fn check_target(&self, raw: &str) -> Result<url::Url, TargetError> {
        let parsed = self.check_url(raw)?;
        if let Some(url::Host::Domain(name)) = parsed.host() {
            let port = parsed.port_or_known_default().unwrap_or(443);
            let addresses = resolve(name, port, self).await?;
            if addresses.is_empty() {
                return Err(TargetError::Unresolvable(name.to_owned()));
            }
        }
        Ok(parsed)
    }

    /// An HTTP client whose every connection goes to an address this policy allows: names are
    /// resolved through the policy, so a name that resolves to an internal address (or starts
    /// to, between the check and the delivery) is refused when connecting. Literal addresses do
    /// not pass through a resolver; [`Self::check_url`] covers them.
    pub fn client(&self, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
        shopbridge_core::http::client_builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver {
                policy: self.clone(),
            }))
            .build()
    }
}

async fn resolve(
    name: &str,
    port: u16,
    policy: &TargetPolicy,
) -> Result<Vec<SocketAddr>, TargetError> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
        .await
        .map_err(|_| TargetError::Unresolvable(name.to_owned()))?
        .collect();
    // One internal address among public ones refuses the name: the connection could go to any.
    for address in &found {
        policy.check_address(name, address.ip())?;
    }
    Ok(found)
}

struct PolicyResolver {
    policy: TargetPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let found = resolve(name.as_str(), 0, &policy).await?;
            let addresses: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addresses)
        })
    }
}

/// Whether an address is on the public internet: not loopback, private, shared (CGNAT),
/// link-local, unique-local, multicast, broadcast, reserved or unspecified, including IPv4
/// addresses mapped into or translated to IPv6.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, _, _] = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_multicast()
        || v4.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        // IETF protocol assignments and the documentation ranges.
        || (a == 192 && b == 0 && matches!(v4.octets()[2], 0 | 2))
        || (a == 198 && b == 51 && v4.octets()[2] == 100)
        || (a == 203 && b == 0 && v4.octets()[2] == 113)
        || a >= 240)
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = v6.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded(segments[6], segments[7]));
    }
    // 6to4 (2002::/16) reaches the IPv4 address in bits 16 to 48.
    if segments[0] == 0x2002 {
        return is_public_v4(embedded(segments[1], segments[2]));
    }
    // Only global unicast (2000::/3), less Teredo (2001::/32, which tunnels to any IPv4
    // address) and documentation (2001:db8::/32). Everything else (loopback, unspecified,
    // unique-local, link-local, site-local, multicast, IPv4-compatible and -translated forms,
    // local-use NAT64, discard-only) is not reachable on the public internet.
    (segments[0] & 0xe000) == 0x2000
        && !(segments[0] == 0x2001 && (segments[1] == 0 || segments[1] == 0x0db8))
}

/// Limits failed guesses of a credential (console sign-in, bearer keys, unified-API signs).
/// Each failure takes a cell from two keyed rate limiters: one per (client address, app key)
/// and one per client address. Once either runs out, that pair or address is refused (429)
/// before its credentials are read, right or wrong, until its next cell comes, so a guesser
/// learns nothing from trying faster. Only the guesser's own address is blocked, so a stranger
/// cannot lock a tenant out from elsewhere. Behind a reverse proxy every client shares the
/// proxy's address unless the hub is told to trust `X-Forwarded-For`.
pub struct GuessThrottle {
    per_key: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<String>,
    blocked: Mutex<HashMap<String, Instant>>,
    /// Failures counted since the last sweep of forgotten keys.
    since_sweep: std::sync::atomic::AtomicUsize,
    /// Take the client's address from the last `X-Forwarded-For` entry (a proxy the hub trusts
    /// appends it there).
    pub trust_forwarded_for: bool,
}

impl std::fmt::Debug for GuessThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuessThrottle")
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish_non_exhaustive()
    }
}

/// Failures between two sweeps of expired blocks and idle limiter keys, so that memory stays
/// bounded by the failures of the last few minutes.
const SWEEP_EVERY: usize = 1_024;

/// What one guess is counted against.
#[derive(Debug, Clone)]
pub struct GuessKeys {
    pair: String,
    address: String,
}

/// The throttle keys of one guess. The app key is hashed (a caller chooses its length); an IPv6
/// client is counted by its /64, which one host usually holds whole.
pub fn guess_keys(client: Option<IpAddr>, app_key: &str) -> GuessKeys {
    use sha2::{Digest, Sha256};
    let address = match client {
        Some(IpAddr::V6(v6)) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Some(IpAddr::V4(v4)) => v4.to_string(),
        None => "unknown".to_owned(),
    };
    let key = hex::encode(&Sha256::digest(app_key.as_bytes())[..16]);
    GuessKeys {
        pair: format!("{address}|{key}"),
        address,
    }
}

impl GuessThrottle {
    /// `per_key` failed guesses a minute for one app key from one address, `per_address` for
    /// all keys from one address, each usable at once.
    pub fn per_minute(per_key: NonZeroU32, per_address: NonZeroU32) -> Self {
        Self {
            per_key: RateLimiter::keyed(Quota::per_minute(per_key)),
            per_address: RateLimiter::keyed(Quota::per_minute(per_address)),
            blocked: Mutex::new(HashMap::new()),
            since_sweep: std::sync::atomic::AtomicUsize::new(0),
            trust_forwarded_for: false,
        }
    }

    /// Takes the client's address from `X-Forwarded-For` (behind a reverse proxy that sets it).
    pub fn trusting_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }

    /// The client a request comes from.
    pub fn client_of(
        &self,
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> Option<IpAddr> {
        if self.trust_forwarded_for
            && let Some(forwarded) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|last| last.trim().parse().ok())
        {
            return Some(forwarded);
        }
        client_addr(extensions)
    }

    /// `Err(wait)` while the pair or the address is blocked.
    pub fn check(&self, keys: &GuessKeys) -> Result<(), Duration> {
        let now = Instant::now();
        let blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let wait = [&keys.pair, &keys.address]
            .into_iter()
            .filter_map(|key| blocked.get(key))
            .filter(|until| **until > now)
            .map(|until| *until - now)
            .max();
        wait.map_or(Ok(()), Err)
    }

    /// Counts a failed guess against the pair and the address; one out of cells is blocked
    /// until its next cell.
    pub fn failed(&self, keys: &GuessKeys) {
        let now = Instant::now();
        let clock = governor::clock::DefaultClock::default();
        let mut newly_blocked = Vec::new();
        for (limiter, key) in [
            (&self.per_key, &keys.pair),
            (&self.per_address, &keys.address),
        ] {
            if let Err(not_until) = limiter.check_key(key) {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(&clock));
                newly_blocked.push((key.clone(), now + wait.max(Duration::from_secs(1))));
            }
        }
        let sweep = self
            .since_sweep
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % SWEEP_EVERY
            == SWEEP_EVERY - 1;
        if newly_blocked.is_empty() && !sweep {
            return;
        }
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        if sweep {
            blocked.retain(|_, until| *until > now);
            self.per_key.retain_recent();
            self.per_address.retain_recent();
        }
        blocked.extend(newly_blocked);
    }
}

impl Default for GuessThrottle {
    /// Ten failed guesses a minute per app key and address, thirty per address.
    fn default() -> Self {
        let cells = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self::per_minute(cells(10), cells(30))
    }
}

/// The address a connection came from, when the server was started with connection info.
pub(crate) fn client_addr(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The headers every answer carries: no framing by other sites (clickjacking of the console's
/// buttons), no content sniffing, no referrer leaking a page's address to other sites.
pub fn security_headers<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
) -> axum::Router<S> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            "frame-ancestors 'none'",
        ))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "64:ff9b:1::a9fe:a9fe",
            "::ffff:0:a9fe:a9fe",
            "100::1",
            "::a9fe:a9fe",
            "192.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
        ] {
            let address: IpAddr = internal.parse().expect("address");
            assert!(!is_public(address), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
            "2001:4860:4860::8888",
            "64:ff9b::808:808",
        ] {
            let address: IpAddr = public.parse().expect("address");
            assert!(is_public(address), "{public}");
        }
    }

    #[test]
    fn every_spelling_of_an_internal_literal_is_refused() {
        let policy = TargetPolicy::default().with_own_origin("https://hub.example.com");
        for url in [
            "http://127.0.0.1/hook",
            "http://localhost:8080/",
            "http://LOCALHOST/",
            "http://[::1]/",
            "http://0.0.0.0/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://10.0.0.5/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:127.0.0.1]/",
            "http://[2002:a9fe:a9fe::]/",
        ] {
            assert!(
                matches!(policy.check_url(url), Err(TargetError::Internal { .. })),
                "{url}"
            );
        }
        for own in [
            "https://hub.example.com/v1/shops",
            "https://hub.example.com./v1/shops",
        ] {
            assert!(
                matches!(policy.check_url(own), Err(TargetError::TheHub(_))),
                "{own}"
            );
        }
        let refused = policy.check_url("http://10.0.0.5/").expect_err("internal");
        assert!(!refused.to_string().contains("10.0.0.5/"), "{refused}");
        assert!(matches!(
            policy.check_url("ftp://example.com/"),
            Err(TargetError::NotHttp)
        ));
        assert!(policy.check_url("https://erp.example.com/hook").is_ok());
        assert!(
            TargetPolicy::allow_private()
                .check_url("http://127.0.0.1:9/")
                .is_ok()
        );
    }

    #[test]
    fn a_guesser_out_of_guesses_is_refused_until_its_next_cell() {
        let three = NonZeroU32::new(3).expect("3");
        let throttle = GuessThrottle::per_minute(three, NonZeroU32::new(100).expect("100"));
        let keys = guess_keys(Some("198.51.100.7".parse().expect("ip")), "erp");
        for _ in 0..3 {
            assert!(throttle.check(&keys).is_ok());
            throttle.failed(&keys);
        }
        assert!(throttle.check(&keys).is_ok(), "three failures are allowed");
        throttle.failed(&keys);
        let wait = throttle.check(&keys).expect_err("the fourth blocks");
        assert!(wait <= Duration::from_secs(21), "{wait:?}");
        // The same key guessed at from elsewhere is not blocked: no lockout by strangers.
        let elsewhere = guess_keys(Some("198.51.100.9".parse().expect("ip")), "erp");
        assert!(throttle.check(&elsewhere).is_ok());
        // An IPv6 host is counted by its /64, and a huge app key costs no more than a short one.
        let a = guess_keys(
            Some("2001:4860:1:2::1".parse().expect("ip")),
            &"k".repeat(1 << 20),
        );
        let b = guess_keys(Some("2001:4860:1:2::ffff".parse().expect("ip")), "k");
        assert_eq!(a.address, b.address);
        assert!(a.pair.len() < 100);
    }
}
