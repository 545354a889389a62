//! Mail: the SMTP side of digests, built on lettre's connection API from `[smtp]` (plain on
//! localhost, STARTTLS, or TLS from the first byte, the certificate checked against the
//! system's roots plus `ca_file`; optional authentication with the password read from the
//! environment). It sits at the end of the digest stage: `digest`
//! renders a message and asks `Mailer::deliver` to hand it to the server for one recipient.
//!
//! The exchange is driven step by step (EHLO, AUTH, MAIL, RCPT, DATA, message) so that the
//! outcome says *where* it stopped: anything before the message data is safe to retry; a
//! 4xx or 5xx reply to the data is the server's decision; but a connection lost or timed
//! out after the data went out leaves the message maybe delivered, which `digest` records
//! as `unknown` and never resends on its own. One outer timeout bounds the whole exchange.

use std::time::Duration;

use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, MailBodyParameter, MailParameter};

use crate::config::{SmtpConfig, SmtpSecurity};

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server accepted the message; its reply.
    Sent(String),
    /// Worth retrying later: connection refused, timeout before the data, 4xx.
    Temporary(String),
    /// Refused for good: a 5xx reply (recipient rejected, message refused, bad login).
    Permanent(String),
    /// The data went out but no final reply came: maybe delivered.
    Unknown(String),
}

/// Where in the exchange we are (to classify failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connect,
    Envelope,
    Data,
}

/// Sends messages through the configured SMTP server.
#[derive(Clone)]
pub struct Mailer {
    cfg: SmtpConfig,
    hello: ClientId,
    /// The certificate authority of `ca_file`, trusted besides the system's (or why it
    /// could not be read).
    extra_root: Option<Result<Certificate, String>>,
}

impl Mailer {
    pub fn new(cfg: &SmtpConfig) -> Mailer {
        let extra_root = cfg.ca_file.as_ref().map(|path| {
            std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|pem| Certificate::from_pem(&pem).map_err(|e| e.to_string()))
                .map_err(|e| format!("smtp.ca_file {}: {e}", path.display()))
        });
        Mailer {
            cfg: cfg.clone(),
            hello: ClientId::default(),
            extra_root,
        }
    }

    /// `host:port` as shown in logs.
    pub fn server(&self) -> String {
        format!("{}:{}", self.cfg.host.get_ref(), self.cfg.port())
    }

    /// Deliver `message` (a complete RFC 5322 message) to one recipient. `before_data` runs
    /// after the server agreed to take the data and before it is sent; when it returns
    /// false the attempt stops there (the caller could not record the step).
    pub async fn deliver(
        &self,
        from: &Address,
        to: &Address,
        message: &[u8],
        before_data: impl AsyncFnOnce() -> bool,
    ) -> SendOutcome {
        let mut stage = Stage::Connect;
        let exchange = self.exchange(from, to, message, before_data, &mut stage);
        let result = tokio::time::timeout(self.cfg.timeout, exchange).await;
        match result {
            Ok(outcome) => outcome,
            Err(_) => {
                let msg = format!(
                    "no answer from {} within {:?} (outer timeout)",
                    self.server(),
                    self.cfg.timeout
                );
                if stage == Stage::Data {
                    SendOutcome::Unknown(format!("{msg}, after the message data was sent"))
                } else {
                    SendOutcome::Temporary(msg)
                }
            }
        }
    }

    async fn exchange(
        &self,
        from: &Address,
        to: &Address,
        message: &[u8],
        before_data: impl AsyncFnOnce() -> bool,
        stage: &mut Stage,
    ) -> SendOutcome {
        let mut conn = match self.connect().await {
            Ok(c) => c,
            Err(outcome) => return outcome,
        };
        *stage = Stage::Envelope;
        let mut params = Vec::new();
        if !message.is_ascii() {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let envelope = async {
            conn.command(Mail::new(Some(from.clone()), params)).await?;
            conn.command(Rcpt::new(to.clone(), Vec::new())).await?;
            conn.command(Data).await
        };
        if let Err(e) = envelope.await {
            conn.abort().await;
            return classify(&e, "envelope");
        }
        if !before_data().await {
            conn.abort().await;
            return SendOutcome::Temporary("could not record the attempt in the ledger".into());
        }
        *stage = Stage::Data;
        match conn.message(message).await {
            Ok(reply) => {
                let text = reply_text(reply.code().to_string(), reply.message());
                *stage = Stage::Envelope;
                let _ = conn.quit().await;
                SendOutcome::Sent(text)
            }
            Err(e) if e.is_transient() || e.is_permanent() => {
                conn.abort().await;
                classify(&e, "data")
            }
            Err(e) => {
                conn.abort().await;
                SendOutcome::Unknown(format!(
                    "the message data was sent but the final reply never came ({e}); it may have been delivered"
                ))
            }
        }
    }

    /// Connect, greet, secure and log in.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendOutcome> {
        let host = self.cfg.host.get_ref().trim().to_string();
        let port = self.cfg.port();
        let tls = |host: &str| {
            let mut params = TlsParameters::builder(host.to_string());
            match &self.extra_root {
                Some(Ok(ca)) => params = params.add_root_certificate(ca.clone()),
                Some(Err(e)) => return Err(SendOutcome::Permanent(e.clone())),
                None => {}
            }
            params
                .build_rustls()
                .map_err(|e| SendOutcome::Permanent(format!("TLS setup: {e}")))
        };
        let implicit = match self.cfg.security {
            SmtpSecurity::Tls => Some(tls(&host)?),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (host.as_str(), port),
            Some(self.cfg.timeout),
            &self.hello,
            implicit,
            None,
        )
        .await
        .map_err(|e| classify(&e, "connect"))?;
        if self.cfg.security == SmtpSecurity::Starttls {
            if !conn.can_starttls() {
                conn.abort().await;
                return Err(SendOutcome::Temporary(format!(
                    "{} does not offer STARTTLS (security = \"starttls\")",
                    self.server()
                )));
            }
            conn.starttls(tls(&host)?, &self.hello)
                .await
                .map_err(|e| classify(&e, "starttls"))?;
        }
        if let Some(user) = &self.cfg.username {
            let var = self.cfg.password_env.as_deref().unwrap_or_default();
            let Some(password) = std::env::var(var).ok().filter(|p| !p.is_empty()) else {
                conn.abort().await;
                return Err(SendOutcome::Temporary(format!(
                    "environment variable {var} (smtp.password_env) is not set"
                )));
            };
            let creds = Credentials::new(user.clone(), password);
            if let Err(e) = conn
                .auth(&[Mechanism::Plain, Mechanism::Login], &creds)
                .await
            {
                conn.abort().await;
                return Err(classify(&e, "auth"));
            }
        }
        Ok(conn)
    }
}

fn reply_text<'a>(code: String, lines: impl Iterator<Item = &'a str>) -> String {
    let text = lines.collect::<Vec<_>>().join(" ");
    format!("{code} {text}").trim().to_string()
}

/// A lettre error before the data: 5xx is permanent, everything else worth a retry.
fn classify(e: &lettre::transport::smtp::Error, step: &str) -> SendOutcome {
    let msg = format!("{step}: {e}");
    if e.is_permanent() {
        SendOutcome::Permanent(msg)
    } else {
        SendOutcome::Temporary(msg)
    }
}

/// Backoff before retry number `attempts + 1`: 1, 2, 4 … minutes, at most 30.
pub fn retry_delay(attempts: i64) -> Duration {
    let exp = attempts.saturating_sub(1).clamp(0, 5) as u32;
    Duration::from_secs(60 * (1u64 << exp)).min(Duration::from_secs(30 * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_and_is_capped() {
        assert_eq!(retry_delay(1), Duration::from_secs(60));
        assert_eq!(retry_delay(2), Duration::from_secs(120));
        assert_eq!(retry_delay(3), Duration::from_secs(240));
        assert_eq!(retry_delay(50), Duration::from_secs(30 * 60));
    }
}
