//! The registered OAuth clients and the redirect rule: an exact match of a registered URI; a
//! loopback URI on any port when the client registered that loopback URI on another port
//! (RFC 8252 §7.3); and, for the default client `portcullis-dev` only, any URI on the
//! server's own origin or on a loopback address.

use crate::config::{DevClient, DevConfig};
use url::Url;

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    redirect_uris: Vec<String>,
    logout_uris: Vec<String>,
    secret: Option<String>,
    pub refresh: bool,
    /// The default client, which accepts its own origin and loopback addresses.
    open: bool,
}

impl Client {
    fn from_config(c: &DevClient) -> Self {
        Self {
            id: c.client_id.clone(),
            redirect_uris: c.redirect_uris.clone(),
            logout_uris: c.logout_uris.clone(),
            secret: c.client_secret.as_ref().map(|s| s.expose().to_owned()),
            refresh: c.grant_types.iter().any(|g| g == "refresh_token"),
            open: c.client_id == portcullis_dev_issuer::DEFAULT_CLIENT_ID
                && c.redirect_uris.is_empty(),
        }
    }

    pub fn is_confidential(&self) -> bool {
        self.secret.is_some()
    }

    /// Whether `given` is this client's secret (constant time).
    pub fn secret_matches(&self, given: &str) -> bool {
        self.secret
            .as_deref()
            .is_some_and(|s| super::random::constant_eq(s, given))
    }
}

#[derive(Debug)]
pub struct Clients {
    clients: Vec<Client>,
    /// `scheme://host:port` of the issuer, where the default client may send the browser.
    own_origin: Option<String>,
}

impl Clients {
    pub fn new(config: &DevConfig, issuer_url: &str) -> Self {
        Self {
            clients: config
                .effective_clients()
                .iter()
                .map(Client::from_config)
                .collect(),
            own_origin: Url::parse(issuer_url)
                .ok()
                .map(|u| u.origin().ascii_serialization()),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.clients.iter().map(|c| c.id.as_str())
    }

    /// Whether the browser may be sent to `uri` with a code for `client`.
    pub fn redirect_allowed(&self, client: &Client, uri: &str) -> bool {
        self.allowed(client, &client.redirect_uris, uri)
    }

    /// Whether a page at `origin` (`scheme://host:port`) may call the provider with `fetch`:
    /// the origin of a registered redirect URI, or one the default client may be sent to.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let Ok(url) = Url::parse(origin) else {
            return false;
        };
        let origin = url.origin().ascii_serialization();
        self.clients.iter().any(|c| {
            c.redirect_uris
                .iter()
                .filter_map(|r| Url::parse(r).ok())
                .any(|r| {
                    r.origin().ascii_serialization() == origin
                        || (is_loopback(&r) && is_loopback(&url) && r.host() == url.host())
                })
                || (c.open
                    && (is_loopback(&url) || self.own_origin.as_deref() == Some(origin.as_str())))
        })
    }

    /// Whether `/logout` may send the browser to `uri` for `client`.
    pub fn logout_allowed(&self, client: &Client, uri: &str) -> bool {
        let list = if client.logout_uris.is_empty() {
            &client.redirect_uris
        } else {
            &client.logout_uris
        };
        self.allowed(client, list, uri)
    }

    fn allowed(&self, client: &Client, registered: &[String], uri: &str) -> bool {
        let Ok(given) = Url::parse(uri) else {
            return false;
        };
        if given.fragment().is_some()
            || !matches!(given.scheme(), "http" | "https")
            || !given.username().is_empty()
            || given.password().is_some()
        {
            return false;
        }
        if registered.iter().any(|r| r == uri) {
            return true;
        }
        if is_loopback(&given)
            && registered
                .iter()
                .filter_map(|r| Url::parse(r).ok())
                .any(|r| is_loopback(&r) && same_but_port(&r, &given))
        {
            return true;
        }
        client.open
            && (is_loopback(&given)
                || self
                    .own_origin
                    .as_deref()
                    .is_some_and(|o| given.origin().ascii_serialization() == o))
    }
}

/// `http` on 127.0.0.0/8, `[::1]` or `localhost` (RFC 8252 §7.3).
fn is_loopback(u: &Url) -> bool {
    if u.scheme() != "http" {
        return false;
    }
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn same_but_port(a: &Url, b: &Url) -> bool {
    a.host() == b.host() && a.path() == b.path() && a.query() == b.query()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Redacted;

    fn clients() -> Clients {
        let config = DevConfig {
            clients: vec![DevClient {
                client_id: "web".into(),
                redirect_uris: vec![
                    "https://app.example.com/cb".into(),
                    "http://127.0.0.1/native/cb".into(),
                ],
                logout_uris: Vec::new(),
                client_secret: Some(Redacted::new("s3cret-value")),
                grant_types: vec!["authorization_code".into()],
            }],
            ..DevConfig::default()
        };
        Clients::new(&config, "http://127.0.0.1:8080/dev-issuer")
    }

    #[test]
    fn redirect_rule() {
        let c = clients();
        let web = c.get("web").expect("web");
        assert!(c.redirect_allowed(web, "https://app.example.com/cb"));
        assert!(!c.redirect_allowed(web, "https://app.example.com/cb/"));
        assert!(!c.redirect_allowed(web, "https://app.example.com/cb?x=1"));
        assert!(!c.redirect_allowed(web, "https://app.example.com/cb#f"));
        assert!(!c.redirect_allowed(web, "https://evil.example/cb"));
        assert!(c.redirect_allowed(web, "http://127.0.0.1:53211/native/cb"));
        assert!(!c.redirect_allowed(web, "http://127.0.0.1:53211/other"));
        assert!(!c.redirect_allowed(web, "http://localhost:8080/anything"));
        assert!(!web.refresh);
        assert!(web.secret_matches("s3cret-value") && !web.secret_matches("s3cret-valuE"));

        let dev = c.get("portcullis-dev").expect("default client");
        assert!(!dev.is_confidential() && dev.refresh);
        assert!(c.redirect_allowed(dev, "http://127.0.0.1:8080/examples/spa/"));
        assert!(c.redirect_allowed(dev, "http://localhost:5173/callback"));
        assert!(c.redirect_allowed(dev, "http://[::1]:3000/cb"));
        assert!(
            !c.redirect_allowed(dev, "https://127.0.0.1:8080/x"),
            "loopback is http only"
        );
        assert!(!c.redirect_allowed(dev, "https://evil.example/"));
        assert!(!c.redirect_allowed(dev, "http://user@127.0.0.1:8080/"));
        assert!(!c.redirect_allowed(dev, "javascript:alert(1)"));
        assert!(!c.redirect_allowed(dev, "/relative"));

        assert!(c.origin_allowed("http://localhost:5173"));
        assert!(c.origin_allowed("https://app.example.com"));
        assert!(!c.origin_allowed("https://evil.example"));
        assert!(!c.origin_allowed("null"));
    }
}
