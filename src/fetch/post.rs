//! POSTing a JSON body (the alerts' webhooks) through the one HTTP client, so a webhook
//! obeys the fetcher's rules: loopback and private addresses refused unless
//! `[fetch] allow_private_networks`, on the first hop and on every redirect, and the
//! redirect limit. The outcome says whether the body may have reached the server: only
//! an answer (any status) or a failure before the request left is certain.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};

use super::{Fetcher, PrivateRefused, host_ip, is_private};

/// How one POST ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// The server answered: its status and the start of its body.
    Answered { status: u16, body: String },
    /// Nothing left: no connection, DNS failure. Safe to try again.
    NotSent(String),
    /// Refused by our own rules (private address, bad URL): trying again will not help.
    Refused(String),
    /// The request may have reached the server but no answer came (timeout, connection
    /// cut): maybe received.
    Lost(String),
}

/// Characters of an answer's body kept for the ledger.
const BODY_KEPT: usize = 200;

impl Fetcher {
    /// POST `body` (JSON) to `url` with extra `headers`, within `timeout`.
    pub async fn post_json(
        &self,
        url: &url::Url,
        body: Vec<u8>,
        headers: &[(&'static str, String)],
        timeout: Duration,
    ) -> Posted {
        if !matches!(url.scheme(), "http" | "https") {
            return Posted::Refused(format!("{url}: only http and https"));
        }
        if !self.allow_private
            && let Some(ip) = host_ip(url)
            && is_private(ip)
        {
            return Posted::Refused(PrivateRefused(ip.to_string()).to_string());
        }
        let mut req = self
            .client
            .post(url.clone())
            .timeout(timeout)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body);
        for (k, v) in headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                req = req.header(*k, v);
            }
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                Posted::Answered {
                    status,
                    body: text.chars().take(BODY_KEPT).collect(),
                }
            }
            Err(e) => {
                let refused = {
                    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
                    let mut found = None;
                    while let Some(s) = src {
                        if let Some(p) = s.downcast_ref::<PrivateRefused>() {
                            found = Some(p.to_string());
                        }
                        src = s.source();
                    }
                    found
                };
                let msg = super::root_cause(&e);
                if let Some(p) = refused {
                    Posted::Refused(p)
                } else if e.is_redirect() || e.is_builder() {
                    Posted::Refused(msg)
                } else if e.is_connect() {
                    Posted::NotSent(msg)
                } else {
                    Posted::Lost(if e.is_timeout() {
                        format!("no answer within {timeout:?}")
                    } else {
                        msg
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FetchConfig;

    #[tokio::test]
    async fn a_webhook_to_a_private_address_is_refused_unless_allowed() {
        let f = Fetcher::new(&FetchConfig::default()).expect("client");
        for u in [
            "http://127.0.0.1:9/hook",
            "http://localhost:9/hook",
            "http://10.0.0.1/h",
        ] {
            let url = url::Url::parse(u).expect("url");
            let got = f
                .post_json(&url, b"{}".to_vec(), &[], Duration::from_secs(2))
                .await;
            assert!(matches!(got, Posted::Refused(_)), "{u}: {got:?}");
        }
        let allowed = Fetcher::new(&FetchConfig {
            allow_private_networks: true,
            ..FetchConfig::default()
        })
        .expect("client");
        // Nothing listens on port 9: not sent, worth another try.
        let url = url::Url::parse("http://127.0.0.1:9/hook").expect("url");
        let got = allowed
            .post_json(&url, b"{}".to_vec(), &[], Duration::from_secs(2))
            .await;
        assert!(matches!(got, Posted::NotSent(_)), "{got:?}");
    }
}
