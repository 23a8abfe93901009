//! TLS options for `https://` targets: verification, roots, the client
//! identity and the server name, with the PEM files read (and refused) here,
//! before anything is sent, and the rustls client config built once. The
//! `cfg(feature = "tls")` of the config layer is in this file (and the
//! verifiers in `verify.rs`).

use anyhow::{Result, bail};

use crate::cli::{Args, flags};

/// TLS settings for `https://` targets.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// `--insecure`: no certificate or host name verification.
    pub insecure: bool,
    /// `--servername`: the SNI and verification name instead of the URL's
    /// host, lower case.
    pub servername: Option<String>,
    /// The rustls client config: roots (the bundled Mozilla roots, or
    /// `--cacert`), the verifier, the client certificate. Built when first
    /// needed: at once when a target speaks TLS (so that a bad `--cacert`
    /// is refused before anything is sent), else only if a redirect leads
    /// to https://. An `http://` probe neither copies the roots nor starts
    /// rustls (what that costs a probe is in BENCHMARKS.md).
    #[cfg(feature = "tls")]
    pub client: std::sync::Arc<LazyClientConfig>,
}

/// The rustls client config, built once from the TLS flags when first
/// asked for.
#[cfg(feature = "tls")]
#[derive(Debug)]
pub struct LazyClientConfig {
    insecure: bool,
    cacert: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
    identity: Option<Pem>,
    built: std::sync::OnceLock<Result<std::sync::Arc<rustls::ClientConfig>, String>>,
}

#[cfg(feature = "tls")]
impl LazyClientConfig {
    /// The config, built on the first call.
    ///
    /// # Errors
    /// A `--cacert` without a usable CA certificate, or a client key that
    /// does not fit rustls (the message says which).
    pub fn get(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
        self.built
            .get_or_init(|| {
                client_config(
                    self.insecure,
                    self.cacert.as_deref(),
                    self.identity.as_ref(),
                )
                .map_err(|e| format!("{e:#}"))
            })
            .clone()
    }
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
    /// `needs_tls`: whether any target speaks TLS; the PEM files are read
    /// and checked either way, the client config is built only then.
    ///
    /// # Errors
    /// A file that is missing, not PEM, or without the certificate or key it
    /// should hold; a key that does not belong to the certificate; a server
    /// name that is not a DNS name; any TLS flag in a build without TLS.
    /// Each message names the flag (or variable) whose value is at fault.
    pub(super) fn from_args(args: &Args, needs_tls: bool) -> Result<TlsOptions> {
        let servername = match &args.text(&flags::SERVERNAME)? {
            Some(text) => Some(dns_name(text).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: {:?} is not a DNS name",
                    args.name(&flags::SERVERNAME),
                    text.trim().trim_end_matches('.').to_ascii_lowercase()
                )
            })?),
            None => None,
        };
        if args.given(&flags::KEY) && !args.given(&flags::CERT) {
            bail!(
                "{} needs {} (the client certificate it belongs to)",
                args.name(&flags::KEY),
                args.name(&flags::CERT)
            );
        }
        #[cfg(not(feature = "tls"))]
        {
            let tls_flags = [&flags::CACERT, &flags::CERT, &flags::SERVERNAME];
            if args.switch(&flags::INSECURE) || tls_flags.iter().any(|f| args.given(f)) {
                bail!(
                    "TLS options need a build with TLS (this one was built without the tls feature)"
                );
            }
            let _ = (needs_tls, servername);
            Ok(TlsOptions {
                insecure: false,
                servername: None,
            })
        }
        #[cfg(feature = "tls")]
        Ok(TlsOptions {
            insecure: args.switch(&flags::INSECURE),
            servername,
            client: LazyClientConfig::from_args(args, needs_tls)?,
        })
    }
}

#[cfg(feature = "tls")]
impl LazyClientConfig {
    /// The PEM files read and checked now; the rustls config built now when
    /// `needs_tls`, else when first asked for.
    fn from_args(args: &Args, needs_tls: bool) -> Result<std::sync::Arc<LazyClientConfig>> {
        use anyhow::Context;
        use std::path::PathBuf;
        let cacert = match args.text(&flags::CACERT)?.map(PathBuf::from) {
            Some(path) => Some(trust_anchors(&path).with_context(|| args.name(&flags::CACERT))?),
            None => None,
        };
        let key = args.text(&flags::KEY)?.map(PathBuf::from);
        let identity = match args.text(&flags::CERT)?.map(PathBuf::from) {
            Some(path) => Some(client_identity(&path, key.as_deref(), args)?),
            None => None,
        };
        let client = std::sync::Arc::new(LazyClientConfig {
            insecure: args.switch(&flags::INSECURE),
            cacert,
            identity,
            built: std::sync::OnceLock::new(),
        });
        if needs_tls {
            client.get().map_err(|e| anyhow::anyhow!("TLS: {e}"))?;
        }
        Ok(client)
    }
}

/// The certificates of a `--cacert` file, at least one usable as a trust
/// anchor.
#[cfg(feature = "tls")]
fn trust_anchors(
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    let (certs, _) = read_pem(path)?;
    if certs.is_empty() {
        bail!("{}: no PEM certificate in the file", path.display());
    }
    let mut roots = rustls::RootCertStore::empty();
    if roots.add_parsable_certificates(certs.iter().cloned()).0 == 0 {
        bail!(
            "{}: no certificate in the file can be a trust anchor",
            path.display()
        );
    }
    Ok(certs)
}

/// The client certificate chain of `--cert` and its key, from `--key` or
/// the `--cert` file itself, checked to belong together.
#[cfg(feature = "tls")]
fn client_identity(
    path: &std::path::Path,
    key_path: Option<&std::path::Path>,
    args: &Args,
) -> Result<Pem> {
    use anyhow::{Context, anyhow};
    let cert = args.name(&flags::CERT);
    let (chain, key_in_cert) = read_pem(path).context(cert.clone())?;
    if chain.is_empty() {
        bail!("{cert}: {}: no PEM certificate in the file", path.display());
    }
    let (key, key_flag, key_file) = match key_path {
        Some(key_path) => {
            let flag = args.name(&flags::KEY);
            let (_, key) = read_pem(key_path).context(flag.clone())?;
            let key = key.ok_or_else(|| {
                anyhow!(
                    "{flag}: {}: no PEM private key in the file",
                    key_path.display()
                )
            })?;
            (key, flag, key_path)
        }
        None => {
            let key = key_in_cert.ok_or_else(|| {
                anyhow!(
                    "{cert}: {}: no private key in the file; give --key",
                    path.display()
                )
            })?;
            (key, cert.clone(), path)
        }
    };
    key_fits(&chain, &key).map_err(|why| {
        anyhow!(
            "{key_flag}: {}: {}",
            key_file.display(),
            why.replace("KEY", &key_flag).replace("CERT", &cert)
        )
    })?;
    Ok((chain, Some(key)))
}

/// Whether rustls takes `key` and it belongs to the first certificate of
/// `chain`. The error is in words, with `KEY` and `CERT` for the flags.
#[cfg(feature = "tls")]
fn key_fits(
    chain: &[rustls::pki_types::CertificateDer<'static>],
    key: &rustls::pki_types::PrivateKeyDer<'static>,
) -> std::result::Result<(), String> {
    use rustls::{Error, InconsistentKeys};
    let provider = rustls::crypto::ring::default_provider();
    match rustls::sign::CertifiedKey::from_der(chain.to_vec(), key.clone_key(), &provider) {
        Ok(_) | Err(Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(()),
        Err(Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            Err("the private key in KEY does not belong to the certificate in CERT".into())
        }
        Err(Error::General(_)) => Err("the private key is of a type this build does not support \
             (use an RSA, ECDSA P-256/P-384 or Ed25519 key)"
            .into()),
        Err(e) => Err(format!("the private key cannot be used: {e}")),
    }
}

/// The rustls client config: ring, TLS 1.2 and 1.3; the Mozilla roots or
/// `--cacert` (with its certificates also trusted as they are, see
/// `verify.rs`), or no verification with `--insecure`; the client identity.
///
/// # Errors
/// A `--cacert` without a usable CA certificate, or a client key that does
/// not fit rustls.
#[cfg(feature = "tls")]
fn client_config(
    insecure: bool,
    cacert: Option<&[rustls::pki_types::CertificateDer<'static>]>,
    identity: Option<&Pem>,
) -> Result<std::sync::Arc<rustls::ClientConfig>> {
    use std::sync::Arc;

    use anyhow::anyhow;
    use rustls::client::WebPkiServerVerifier;
    use rustls::{ClientConfig, RootCertStore};

    use super::verify::{PinnedOrWebPki, Unverified};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| anyhow!("TLS: {e}"))?;
    let builder = match (insecure, cacert) {
        (true, _) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider))),
        (false, None) => builder.with_root_certificates(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
        (false, Some(certs)) => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(certs.iter().cloned());
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| anyhow!("{e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedOrWebPki {
                    webpki,
                    pinned: certs.to_vec(),
                }))
        }
    };
    let config = match identity {
        Some((chain, Some(key))) => builder
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(|e| anyhow!("the client certificate: {e}"))?,
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The certificates of a PEM file, and its first private key.
#[cfg(feature = "tls")]
type Pem = (
    Vec<rustls::pki_types::CertificateDer<'static>>,
    Option<rustls::pki_types::PrivateKeyDer<'static>>,
);

/// Largest PEM file read, in bytes: 4 MiB, twenty times Mozilla's whole
/// root bundle (about 220 KB); `/dev/zero` or a disk image given by mistake
/// is refused instead of read until memory runs out.
#[cfg(feature = "tls")]
const MAX_PEM_BYTES: u64 = 4 << 20;

/// Reads the PEM file at `path` and returns its certificates and its first
/// private key (rustls-pki-types' PEM reader).
///
/// # Errors
/// The file cannot be read, is larger than [`MAX_PEM_BYTES`], or holds PEM
/// sections that do not parse.
#[cfg(feature = "tls")]
fn read_pem(path: &std::path::Path) -> Result<Pem> {
    use anyhow::anyhow;
    use rustls::pki_types::pem::{PemObject, SectionKind};
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::Read;
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_PEM_BYTES + 1).read_to_end(&mut pem))
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if pem.len() as u64 > MAX_PEM_BYTES {
        bail!(
            "{}: larger than {} MiB, not a PEM file",
            path.display(),
            MAX_PEM_BYTES >> 20
        );
    }
    let mut certs = Vec::new();
    let mut key = None;
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(&pem) {
        let (kind, der) = item.map_err(|e| anyhow!("{}: not PEM ({e})", path.display()))?;
        match kind {
            SectionKind::Certificate => certs.push(CertificateDer::from(der)),
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
                if key.is_none() =>
            {
                key = PrivateKeyDer::from_pem(kind, der);
            }
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
