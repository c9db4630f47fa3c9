//! Which domain a request is for, and which credentials it admits: the one place every face
//! (PDS, eds-user, KooDrive, and those to come) asks.
//!
//! Only the operator makes `Host` route: with a base domain configured
//! (`--base-domain api.example.com`), `<label>.api.example.com` is a request for domain
//! `<label>`; every other name (the bare base domain, an IP address, `localhost`, any other
//! host) names no domain, and without a base domain no `Host` ever does. The label is taken as
//! it is, whether or not such a domain exists: the answer never depends on which tenants exist.
//!
//! A credential (access token, access key, refresh token, reset token, JWT assertion, the
//! `domain_id` of a login) names its own domain. A request that names a domain admits only
//! credentials of that domain; any other is refused as an invalid credential would be, before
//! anything is consumed. A request that names no domain acts in the credential's own domain.

use crate::error::{AuthProblem, Error, Result};

/// Labels that never name a domain and no domain may take: the names a deployment commonly
/// gives its own front doors.
pub const RESERVED_LABELS: [&str; 8] = [
    "www", "api", "admin", "app", "auth", "login", "mail", "static",
];

/// How requests are routed to domains; built once from the configuration.
#[derive(Debug, Clone)]
pub struct Routing {
    /// The operator's base domain, lower-case, without a trailing dot.
    base_domain: Option<String>,
    /// The operator domain: where a login that names no domain goes.
    default_domain: String,
}

impl Routing {
    /// Routing under `base_domain` (none: `Host` never selects a domain).
    pub fn new(base_domain: Option<&str>, default_domain: &str) -> Routing {
        let base_domain = base_domain
            .map(|b| b.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|b| !b.is_empty());
        Routing {
            base_domain,
            default_domain: default_domain.to_owned(),
        }
    }

    /// The operator domain.
    pub fn default_domain(&self) -> &str {
        &self.default_domain
    }

    /// The domain a `Host` header names: the one label before the base domain, unless it is
    /// reserved. Known or not: no store is asked.
    pub fn domain_of_host(&self, host: &str) -> Option<String> {
        let base = self.base_domain.as_deref()?;
        let name = host_name(host).to_ascii_lowercase();
        let label = name.strip_suffix(base)?.strip_suffix('.')?;
        let routable = !label.is_empty() && !label.contains('.') && !self.is_reserved(label);
        routable.then(|| label.to_owned())
    }

    /// A domain's public base URL (its OpenID Connect issuer, the origin of its pages and
    /// mailed links), from the operator's `public_url`: the operator domain's is
    /// `public_url` itself; with `Host` routing, another domain's is `public_url` with the
    /// host `<domain>.<base domain>` (same scheme and port). Never from a request's `Host`.
    pub fn public_base(&self, public_url: &str, domain_id: &str) -> String {
        let routed = self
            .base_domain
            .as_deref()
            .filter(|_| domain_id != self.default_domain && !self.is_reserved(domain_id));
        let Some(base) = routed else {
            return public_url.to_owned();
        };
        let Ok(mut url) = url::Url::parse(public_url) else {
            return public_url.to_owned();
        };
        match url.set_host(Some(&format!("{domain_id}.{base}"))) {
            Ok(()) => url.as_str().trim_end_matches('/').to_owned(),
            Err(_) => public_url.to_owned(),
        }
    }

    /// Whether `label` is kept from every domain: a reserved label, or one of the base
    /// domain's own labels (`roster` of `roster.example.com`), which would look like the
    /// deployment itself.
    pub fn is_reserved(&self, label: &str) -> bool {
        RESERVED_LABELS.contains(&label)
            || self
                .base_domain
                .as_deref()
                .is_some_and(|base| base.split('.').any(|own| own == label))
    }

    /// The domain a password login is checked in: the one the request names, else the
    /// `domain_id` form field, else the operator domain. A field naming another domain than
    /// the request is refused as wrong credentials are.
    pub fn login_domain(
        &self,
        request_domain: Option<&str>,
        named: Option<&str>,
    ) -> Result<String> {
        let named = named.filter(|d| !d.is_empty());
        match (request_domain, named) {
            (Some(routed), Some(named)) if routed != named => {
                Err(Error::Unauthorized(AuthProblem::InvalidCredentials))
            }
            (Some(domain), _) | (None, Some(domain)) => Ok(domain.to_owned()),
            (None, None) => Ok(self.default_domain.clone()),
        }
    }
}

/// The rule for every credential: valid in a request for its own domain, or in one that
/// names no domain.
pub fn admits(request_domain: Option<&str>, credential_domain: &str) -> bool {
    request_domain.is_none_or(|d| d == credential_domain)
}

/// Whether `name` can be a base domain: two or more DNS labels (`api.example.com`).
pub fn is_base_domain(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `Host` without its port and brackets.
fn host_name(host: &str) -> &str {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    name.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_routed_domain_has_its_own_public_base() {
        let routing = super::Routing::new(Some("roster.example.com"), "ops");
        let url = "https://roster.example.com:8443";
        assert_eq!(routing.public_base(url, "ops"), url);
        assert_eq!(
            routing.public_base(url, "acme"),
            "https://acme.roster.example.com:8443"
        );
        let unrouted = super::Routing::new(None, "ops");
        assert_eq!(unrouted.public_base(url, "acme"), url);
    }

    use super::*;

    fn routed(base: Option<&str>, host: &str) -> Option<String> {
        Routing::new(base, "default").domain_of_host(host)
    }

    #[test]
    fn only_one_label_under_the_base_domain_names_a_domain() {
        let base = Some("roster.example.com");
        assert_eq!(routed(base, "acme.roster.example.com"), Some("acme".into()));
        assert_eq!(
            routed(base, "ACME.Roster.Example.com.:8080"),
            Some("acme".into())
        );
        assert_eq!(routed(base, "roster.example.com"), None);
        assert_eq!(routed(base, "roster.example.com:443"), None);
        assert_eq!(routed(base, "a.b.roster.example.com"), None);
        assert_eq!(routed(base, "acme.other.example.com"), None);
        assert_eq!(routed(base, "acmeroster.example.com"), None);
        assert_eq!(routed(base, "www.roster.example.com"), None);
        assert_eq!(routed(base, "127.0.0.1:8080"), None);
        assert_eq!(routed(base, "[::1]:8080"), None);
    }

    #[test]
    fn without_a_base_domain_no_host_names_a_domain() {
        assert_eq!(routed(None, "acme.roster.example.com"), None);
        assert_eq!(routed(Some(""), "acme.roster.example.com"), None);
    }

    #[test]
    fn the_base_domains_own_labels_are_reserved() {
        let routing = Routing::new(Some("roster.example.com"), "default");
        for label in ["roster", "example", "com", "www", "api"] {
            assert!(routing.is_reserved(label), "{label}");
        }
        assert!(!routing.is_reserved("acme"));
    }

    #[test]
    fn a_base_domain_is_a_host_name() {
        assert!(is_base_domain("roster.example.com"));
        assert!(is_base_domain("roster.test."));
        for refused in [
            "localhost",
            "https://x.example.com",
            "x..com",
            "*.example.com",
            "",
        ] {
            assert!(!is_base_domain(refused), "{refused}");
        }
    }

    #[test]
    fn a_login_field_never_overrides_the_routed_domain() {
        let routing = Routing::new(Some("roster.test"), "default");
        assert_eq!(routing.login_domain(None, None).unwrap(), "default");
        assert_eq!(routing.login_domain(None, Some("")).unwrap(), "default");
        assert_eq!(routing.login_domain(None, Some("acme")).unwrap(), "acme");
        assert_eq!(routing.login_domain(Some("acme"), None).unwrap(), "acme");
        assert_eq!(
            routing.login_domain(Some("acme"), Some("acme")).unwrap(),
            "acme"
        );
        assert!(routing.login_domain(Some("acme"), Some("beta")).is_err());
    }

    #[test]
    fn a_credential_is_admitted_only_in_its_own_domain() {
        assert!(admits(None, "acme"));
        assert!(admits(Some("acme"), "acme"));
        assert!(!admits(Some("beta"), "acme"));
    }
}
