//! The self-signed certificate for `https://localhost:PORT/…` redirects.
//!
//! Meta wants HTTPS redirect URIs for apps in Live mode (meta-platform.md §1.6), and a loopback
//! listener can't get a publicly trusted certificate. sq makes one self-signed certificate
//! (ECDSA P-256; SANs `localhost`, `127.0.0.1`, `::1`) the first time it is needed and keeps it
//! in the data directory, so the browser's "not private" warning is accepted once per browser
//! profile rather than on every run, and users who prefer can trust that one file
//! ([`TlsIdentity::cert_path`]). It is regenerated only when missing, unreadable, or within
//! [`RENEW_BEFORE_DAYS`] of expiry.
//!
//! The key file is written with mode 0600 (atomically, via `fsutil::write_atomic`). The key
//! protects nothing beyond this loopback hop, but a readable key would let another local user
//! impersonate the callback page.
//!
//! Citations: §n is a section of docs/reference/meta-platform.md.

use super::AuthError;
use crate::fsutil;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub const CERT_FILE: &str = "localhost-cert.pem";
pub const KEY_FILE: &str = "localhost-key.pem";
/// 825 days: the longest validity Apple platforms accept for a TLS server certificate.
pub const VALIDITY_DAYS: i64 = 825;
pub const RENEW_BEFORE_DAYS: i64 = 30;
/// The system certificate bundles of the common platforms (Debian/Ubuntu/Alpine, Fedora/RHEL,
/// macOS/BSD's exported bundle).
const SYSTEM_BUNDLES: &[&str] =
    &["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

/// sq's loopback certificate and key, loaded from (or just saved to) the data directory.
pub struct TlsIdentity {
    cert_path: PathBuf,
    key_path: PathBuf,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    not_after: OffsetDateTime,
    created: bool,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("cert_path", &self.cert_path)
            .field("not_after", &self.not_after)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// Where the certificate lives for a data directory (for the README and messages).
    pub fn cert_path_in(data_dir: &Path) -> PathBuf {
        data_dir.join(CERT_FILE)
    }

    /// Loads the certificate kept in `data_dir`, or makes and saves a new one.
    pub fn load_or_create(data_dir: &Path) -> Result<TlsIdentity, AuthError> {
        Self::load_or_create_at(data_dir, OffsetDateTime::now_utc())
    }

    fn load_or_create_at(data_dir: &Path, now: OffsetDateTime) -> Result<TlsIdentity, AuthError> {
        let cert_path = data_dir.join(CERT_FILE);
        let key_path = data_dir.join(KEY_FILE);
        if let Some(id) = Self::load(&cert_path, &key_path) {
            if id.not_after - now > Duration::days(RENEW_BEFORE_DAYS) {
                return Ok(id);
            }
        }
        Self::create(&cert_path, &key_path, now)
    }

    /// `None` when either file is missing or unreadable: the caller makes a new pair.
    fn load(cert_path: &Path, key_path: &Path) -> Option<TlsIdentity> {
        let cert = CertificateDer::from_pem_file(cert_path).ok()?;
        let key = PrivateKeyDer::from_pem_file(key_path).ok()?;
        let not_after = not_after(&cert)?;
        // A key that doesn't belong to the certificate fails here rather than in the browser.
        server_config_for(&cert, &key).ok()?;
        Some(TlsIdentity {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            cert,
            key,
            not_after,
            created: false,
        })
    }

    fn create(cert_path: &Path, key_path: &Path, now: OffsetDateTime) -> Result<TlsIdentity, AuthError> {
        let fail = |problem: String| AuthError::Certificate { path: cert_path.to_path_buf(), problem };
        let mut params = rcgen::CertificateParams::new(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ])
        .map_err(|e| fail(format!("can't describe the certificate: {e}")))?;
        params.distinguished_name.push(rcgen::DnType::CommonName, "sq loopback (localhost)");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        // Whole seconds: the DER times have no fractions, and the reload compares them.
        let start = now.replace_nanosecond(0).unwrap_or(now) - Duration::days(1);
        params.not_before = start;
        params.not_after = start + Duration::days(VALIDITY_DAYS);
        let key_pair = rcgen::KeyPair::generate().map_err(|e| fail(format!("can't make a key: {e}")))?;
        let cert =
            params.self_signed(&key_pair).map_err(|e| fail(format!("can't sign the certificate: {e}")))?;
        let dir = cert_path.parent().unwrap_or(Path::new("."));
        fsutil::create_private_dir(dir).map_err(|e| fail(format!("can't create {}: {e}", dir.display())))?;
        // Key first: a certificate without its key is useless, the reverse is just regenerated.
        fsutil::write_atomic(key_path, key_pair.serialize_pem().as_bytes(), 0o600)
            .map_err(|e| fail(format!("can't save the key to {}: {e}", key_path.display())))?;
        fsutil::write_atomic(cert_path, cert.pem().as_bytes(), 0o644)
            .map_err(|e| fail(format!("can't save it: {e}")))?;
        let key = PrivateKeyDer::try_from(key_pair.serialize_der()).map_err(|e| fail(e.to_string()))?;
        Ok(TlsIdentity {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            cert: cert.der().clone(),
            key,
            not_after: params.not_after,
            created: true,
        })
    }

    /// The certificate file: what the user may trust in a browser, or what the README points to
    /// when explaining the one-time warning.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// True when this run made the certificate (the browser will warn about a new one).
    pub fn was_created(&self) -> bool {
        self.created
    }

    pub fn cert_pem(&self) -> String {
        self.cert.to_pem_string()
    }

    pub(crate) fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, AuthError> {
        server_config_for(&self.cert, &self.key)
            .map_err(|problem| AuthError::Certificate { path: self.cert_path.clone(), problem })
    }

    /// What to tell the user about the browser's warning, once per new certificate.
    /// The SHA-256 fingerprint of the certificate (lowercase hex, pairs joined by `:`, as
    /// browsers and `openssl x509 -fingerprint -sha256` show it).
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.cert.as_ref());
        digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
    }

    /// Whether `acknowledged` (the `https.trusted_certificate` setting) names this certificate:
    /// case, `:` and spaces don't matter. A renewed certificate has a new fingerprint, so the
    /// warning comes back until the new one is trusted.
    pub fn acknowledged(&self, acknowledged: Option<&str>) -> bool {
        let norm = |s: &str| s.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_lowercase();
        acknowledged.is_some_and(|a| !norm(a).is_empty() && norm(a) == norm(&self.fingerprint()))
    }

    /// Whether the system's certificate bundle holds this very certificate (it was added to the
    /// system trust store, e.g. with `update-ca-certificates`). Only the usual bundle files
    /// are read; a browser with a store of its own (Firefox, Chromium's NSS database on Linux)
    /// may trust it without this, which is what `https.trusted_certificate` is for.
    pub fn in_system_bundle(&self) -> bool {
        SYSTEM_BUNDLES.iter().any(|path| {
            CertificateDer::pem_file_iter(path)
                .map(|certs| certs.flatten().any(|c| c.as_ref() == self.cert.as_ref()))
                .unwrap_or(false)
        })
    }

    /// The warning an https run gives until the certificate is trusted, with how to end it.
    pub fn untrusted_warning_text(&self) -> String {
        format!(
            "{} Once the browser trusts it, tell sq so this warning stops: sq config set https.trusted_certificate {}",
            self.browser_warning_text(),
            self.fingerprint()
        )
    }

    pub fn browser_warning_text(&self) -> String {
        format!(
            "The browser will warn that the connection to localhost is not private: sq serves the \
             https:// redirect with its own self-signed certificate ({}). Check that the address \
             starts with https://localhost or https://127.0.0.1, then choose Advanced → Proceed. \
             To avoid the warning, trust that file in the browser or the system keychain.",
            self.cert_path.display()
        )
    }
}

trait ToPem {
    fn to_pem_string(&self) -> String;
}

impl ToPem for CertificateDer<'static> {
    fn to_pem_string(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.as_ref());
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }
}

fn server_config_for(
    cert: &CertificateDer<'static>,
    key: &PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.clone_key())
        .map_err(|e| format!("the certificate and key don't fit together: {e}"))?;
    Ok(Arc::new(config))
}

/// Reads `tbsCertificate.validity.notAfter` from a DER certificate (RFC 5280 §4.1) with a small
/// TLV walk, so no X.509 parser is needed for this one field.
fn not_after(cert: &[u8]) -> Option<OffsetDateTime> {
    let (tag, certificate, _) = tlv(cert)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, tbs, _) = tlv(certificate)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = tbs;
    // [0] EXPLICIT version is optional.
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest)?.2;
    }
    for _ in 0..3 {
        // serialNumber, signature, issuer
        rest = tlv(rest)?.2;
    }
    let (tag, validity, _) = tlv(rest)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, after_not_before) = tlv(validity)?;
    let (tag, value, _) = tlv(after_not_before)?;
    let text = std::str::from_utf8(value).ok()?;
    let full = match tag {
        0x17 => {
            // UTCTime YYMMDDHHMMSSZ: 50–99 are 19xx (RFC 5280 §4.1.2.5.1).
            let yy: u32 = text.get(0..2)?.parse().ok()?;
            format!("{}{text}", if yy >= 50 { "19" } else { "20" })
        }
        0x18 => text.to_string(),
        _ => return None,
    };
    let digits = full.strip_suffix('Z')?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().ok();
    let date = time::Date::from_calendar_date(
        n(0..4)? as i32,
        time::Month::try_from(n(4..6)? as u8).ok()?,
        n(6..8)? as u8,
    )
    .ok()?;
    let t = time::Time::from_hms(n(8..10)? as u8, n(10..12)? as u8, n(12..14)? as u8).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

/// One DER element: (tag, contents, the bytes after it).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *input.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, input.get(header..end)?, input.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = TlsIdentity::load_or_create(dir.path()).unwrap();
        assert!(first.was_created());
        assert_eq!(first.cert_path(), TlsIdentity::cert_path_in(dir.path()));
        let expected_days = first.not_after() - OffsetDateTime::now_utc();
        assert!(expected_days > Duration::days(VALIDITY_DAYS - 2), "{expected_days}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(first.key_path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = TlsIdentity::load_or_create(dir.path()).unwrap();
        assert!(!second.was_created());
        assert_eq!(second.cert_pem(), first.cert_pem());
        assert_eq!(second.not_after(), first.not_after());
        second.server_config().unwrap();
    }

    #[test]
    fn regenerated_when_broken_or_expiring() {
        let dir = tempfile::tempdir().unwrap();
        let first = TlsIdentity::load_or_create(dir.path()).unwrap();
        // Close to expiry: renewed.
        let later = first.not_after() - Duration::days(RENEW_BEFORE_DAYS - 1);
        let renewed = TlsIdentity::load_or_create_at(dir.path(), later).unwrap();
        assert!(renewed.was_created());
        assert_ne!(renewed.cert_pem(), first.cert_pem());
        // Unreadable key: renewed.
        std::fs::write(renewed.key_path(), "garbage").unwrap();
        assert!(TlsIdentity::load_or_create(dir.path()).unwrap().was_created());
        // Missing certificate: renewed.
        std::fs::remove_file(TlsIdentity::cert_path_in(dir.path())).unwrap();
        assert!(TlsIdentity::load_or_create(dir.path()).unwrap().was_created());
    }

    #[test]
    fn debug_shows_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let id = TlsIdentity::load_or_create(dir.path()).unwrap();
        let text = format!("{id:?}");
        assert!(!text.contains("PRIVATE") && text.contains("cert_path"), "{text}");
    }

    #[test]
    fn der_time_parsing() {
        assert!(tlv(&[0x30, 0x82, 0x01]).is_none());
        assert!(not_after(b"\x30\x00").is_none());
    }
}
