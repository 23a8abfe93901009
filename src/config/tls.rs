//! TLS options for `https://` targets: verification, roots, the client
//! identity and the server name, with the PEM files read (and refused) here,
//! before anything is sent. The `cfg(feature = "tls")` of the config layer
//! is in this file only.

use anyhow::{Result, bail};

use super::Sources;
use crate::cli::Cli;

/// TLS settings for `https://` targets (rustls through ureq).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// `--insecure`: no certificate or host name verification.
    pub insecure: bool,
    /// `--servername`: the SNI and verification name instead of the URL's
    /// host, lower case.
    pub servername: Option<String>,
    /// ureq's TLS config: roots (bundled Mozilla roots, or `--cacert`),
    /// client certificate, verification.
    #[cfg(feature = "tls")]
    pub ureq: ureq::tls::TlsConfig,
}

/// A DNS name as `--servername` takes it: lower case, no trailing dot,
/// labels of letters, digits and hyphens.
fn dns_name(text: &str) -> Option<String> {
    let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    valid.then_some(name)
}

impl TlsOptions {
    /// Builds the TLS options from the flags: `--cacert` replaces the
    /// bundled roots (curl's meaning), `--cert` with `--key` (or a key in
    /// the `--cert` file) is the client identity for mutual TLS.
    ///
    /// # Errors
    /// A file that is missing, not PEM, or without the certificate or key it
    /// should hold; a server name that is not a DNS name; any TLS flag in a
    /// build without TLS.
    pub(super) fn from_cli(cli: &Cli, src: &Sources) -> Result<TlsOptions> {
        let servername = match &cli.servername {
            Some(text) => Some(dns_name(text).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: {:?} is not a DNS name",
                    src.name("servername"),
                    text.trim().trim_end_matches('.').to_ascii_lowercase()
                )
            })?),
            None => None,
        };
        if cli.key.is_some() && cli.cert.is_none() {
            bail!(
                "{} needs {} (the client certificate it belongs to)",
                src.name("key"),
                src.name("cert")
            );
        }
        #[cfg(not(feature = "tls"))]
        {
            if cli.insecure || cli.cacert.is_some() || cli.cert.is_some() || servername.is_some() {
                bail!(
                    "TLS options need a build with TLS (this one was built without the tls feature)"
                );
            }
            let _ = src;
            Ok(TlsOptions {
                insecure: false,
                servername: None,
            })
        }
        #[cfg(feature = "tls")]
        {
            use anyhow::{Context, anyhow};
            use ureq::tls::{ClientCert, RootCerts, TlsConfig};
            let mut builder = TlsConfig::builder().disable_verification(cli.insecure);
            if let Some(path) = &cli.cacert {
                let flag = src.name("cacert");
                let (certs, _) = read_pem(path).context(flag.clone())?;
                if certs.is_empty() {
                    bail!("{flag}: {}: no PEM certificate in the file", path.display());
                }
                builder = builder.root_certs(RootCerts::from(certs));
            }
            if let Some(path) = &cli.cert {
                let flag = src.name("cert");
                let (chain, key_in_cert) = read_pem(path).context(flag.clone())?;
                if chain.is_empty() {
                    bail!("{flag}: {}: no PEM certificate in the file", path.display());
                }
                let key = match &cli.key {
                    Some(key_path) => {
                        let flag = src.name("key");
                        let (_, key) = read_pem(key_path).context(flag.clone())?;
                        key.ok_or_else(|| {
                            anyhow!(
                                "{flag}: {}: no PEM private key in the file",
                                key_path.display()
                            )
                        })?
                    }
                    None => key_in_cert.ok_or_else(|| {
                        anyhow!(
                            "{flag}: {}: no private key in the file; give --key",
                            path.display()
                        )
                    })?,
                };
                builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
            }
            Ok(TlsOptions {
                insecure: cli.insecure,
                servername,
                ureq: builder.build(),
            })
        }
    }
}

/// The certificates of a PEM file, and its first private key.
#[cfg(feature = "tls")]
type Pem = (
    Vec<ureq::tls::Certificate<'static>>,
    Option<ureq::tls::PrivateKey<'static>>,
);

/// Reads the PEM file at `path` and returns its certificates and its first
/// private key.
///
/// # Errors
/// The file cannot be read, or holds PEM sections that do not parse.
#[cfg(feature = "tls")]
fn read_pem(path: &std::path::Path) -> Result<Pem> {
    use anyhow::anyhow;
    use ureq::tls::PemItem;
    let pem = std::fs::read(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut certs = Vec::new();
    let mut key = None;
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| anyhow!("{}: not PEM ({e})", path.display()))? {
            PemItem::Certificate(cert) => certs.push(cert),
            PemItem::PrivateKey(k) if key.is_none() => key = Some(k),
            _ => {}
        }
    }
    Ok((certs, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_are_dns_names() {
        assert_eq!(dns_name(" App.Internal. ").as_deref(), Some("app.internal"));
        for bad in ["", "a..b", "a b", "under_score.test", &"x".repeat(64)] {
            assert_eq!(dns_name(bad), None, "{bad:?} accepted");
        }
    }
}
