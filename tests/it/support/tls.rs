//! TLS test material: certificates made per test run with rcgen (a private
//! CA and its leaves, self-signed leaves) and a directory for PEM files.
#![cfg(feature = "tls")]

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

/// A certificate with its key, as DER and PEM.
pub struct Cert {
    pub der: CertificateDer<'static>,
    pub key: PrivatePkcs8KeyDer<'static>,
    pub pem: String,
    pub key_pem: String,
}

/// A private CA that signs leaves.
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pub cert: Cert,
}

impl Ca {
    pub fn new() -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "healthprobe test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        let cert = Cert {
            der: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
        };
        Ca { params, key, cert }
    }

    /// A leaf for `names`, valid now unless `expired`.
    pub fn leaf(&self, names: &[&str], expired: bool) -> Cert {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "leaf");
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        Cert {
            der: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A self-signed leaf (no CA).
pub fn self_signed(names: &[&str]) -> Cert {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Cert {
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A self-signed certificate with a CN and no subjectAltName, as
/// `openssl req -x509 -subj /CN=NAME` makes.
pub fn self_signed_cn_only(cn: &str) -> Cert {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    let cert = params.self_signed(&key).unwrap();
    Cert {
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A directory for this test's PEM files, removed on drop.
pub struct Files(PathBuf);

impl Files {
    pub fn new(name: &str) -> Files {
        let dir =
            std::env::temp_dir().join(format!("healthprobe-tls-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Files(dir)
    }
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
