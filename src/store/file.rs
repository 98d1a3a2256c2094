//! The `file` backend: every secret in ONE encrypted file (`Paths::credential_file()`).
//!
//! Crypto: XChaCha20-Poly1305 with a key from Argon2id, both from RustCrypto. `age` (scrypt
//! recipient) would do too, but pulls in its i18n stack and armor/plugin code sq never uses;
//! these two crates are small, audited, pure Rust, and the format below is a few lines.
//!
//! Format v1 (integers little-endian); the whole header is the AEAD's associated data, so a
//! changed byte anywhere fails authentication:
//!
//! ```text
//!  0   8  magic "sq-creds"
//!  8   1  format version (1)
//!  9   1  KDF id (1 = Argon2id v1.3)
//! 10   4  Argon2 memory (KiB)      14  4  Argon2 passes      18  4  Argon2 lanes
//! 22  16  salt
//! 38  24  XChaCha20 nonce (random for every write)
//! 62  16  key check: HMAC-SHA256(key, "sq-creds key check v1"), first 16 bytes
//! 78   8  ciphertext length
//! 86   …  ciphertext + 16-byte Poly1305 tag of {"v":1,"entries":{account: secret}}
//! ```
//!
//! The key check tells a wrong passphrase (check differs) from a damaged body (check matches,
//! tag fails); it lets an attacker test a guess no faster than the tag already does, since
//! either way each guess costs one Argon2id run. The stored length tells truncation apart.
//!
//! Writes are read-modify-write under an exclusive lock on `<file>.lock`, so two sq processes
//! can't lose each other's entries, and go through `fsutil::write_atomic` (temp, fsync,
//! rename, mode 0600). A file sq can't decrypt is never overwritten. The temp file of a write
//! that was killed before its rename is removed by the next writer, under the lock.

use super::StoreKind;
use super::{Account, CredentialStore, StoreError};
use crate::secret::Secret;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::Mac;
use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use zeroize::{Zeroize, Zeroizing};

const MAGIC: &[u8; 8] = b"sq-creds";
const VERSION: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const HEADER_LEN: usize = 86;
const TAG_LEN: usize = 16;
const KEY_CHECK_INFO: &[u8] = b"sq-creds key check v1";

/// How long a writer waits for another sq process to finish its write.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Argon2id cost. Stored in each file, so changing the default never breaks old files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl KdfParams {
    /// OWASP's Argon2id recommendation of 19 MiB and 2 passes, which OWASP rates as strong as
    /// its 46 MiB / 1 pass option ("an equal level of defense", trading memory for time:
    /// https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id).
    /// The smaller memory keeps a command at 10,000 Pages under 64 MB (docs/performance.md); a
    /// fraction of a second per command, paid once per process thanks to the key cache. Files
    /// written with the earlier 46 MiB / 1 pass default keep it (each file names its cost).
    pub const DEFAULT: KdfParams = KdfParams { memory_kib: 19_456, passes: 2, lanes: 1 };

    /// Cheap parameters for tests only; files written with them stay readable by any sq.
    pub const INSECURE_FAST_FOR_TESTS: KdfParams = KdfParams { memory_kib: 64, passes: 1, lanes: 1 };

    /// The most memory a file may ask for: 1 GiB.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// The most work a file may ask for, as memory × passes (Argon2's time grows with both):
    /// 1 GiB × 1 pass, 256 MiB × 4, 64 MiB × 16. That costs about 30 times the default (measured:
    /// 0.31 s for the default, 10.3 s at this bound, in a debug build), where 4 GiB × 64 passes
    /// would cost some 6,000 times it.
    pub const MAX_WORK_KIB_PASSES: u64 = 1024 * 1024;
    pub const MAX_LANES: u32 = 8;

    /// Bounds for parameters read from a file, so a crafted or damaged header can't make sq
    /// allocate gigabytes or compute for minutes before the passphrase is even checked.
    /// Lanes are bounded on their own: this Argon2 computes them one after the other, so they
    /// add no work beyond memory × passes, but each needs 8 KiB of the memory (Argon2's rule).
    fn plausible(self) -> bool {
        (1..=Self::MAX_LANES).contains(&self.lanes)
            && (8 * self.lanes..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib)
            && self.passes >= 1
            && u64::from(self.memory_kib) * u64::from(self.passes) <= Self::MAX_WORK_KIB_PASSES
    }
}

struct Header {
    params: KdfParams,
    salt: [u8; 16],
    nonce: [u8; 24],
    key_check: [u8; 16],
}

struct CachedKey {
    salt: [u8; 16],
    params: KdfParams,
    key: Zeroizing<[u8; 32]>,
}

/// The decrypted contents. Values are wiped when dropped.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Plain {
    v: u32,
    entries: BTreeMap<String, String>,
}

impl Drop for Plain {
    fn drop(&mut self) {
        for value in self.entries.values_mut() {
            value.zeroize();
        }
    }
}

pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    passphrase: Secret,
    new_file_params: KdfParams,
    lock_timeout: Duration,
    /// The last derived key, reused while the file keeps its salt and parameters (they only
    /// change when the file is recreated), so a command pays for Argon2id once.
    key: Mutex<Option<CachedKey>>,
}

impl FileStore {
    /// A store at `path` with a known passphrase. Nothing is read or checked yet.
    pub fn new(path: PathBuf, passphrase: Secret) -> FileStore {
        let mut lock_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        lock_name.push(".lock");
        let lock_path = path.with_file_name(lock_name);
        FileStore {
            path,
            lock_path,
            passphrase,
            new_file_params: KdfParams::DEFAULT,
            lock_timeout: LOCK_TIMEOUT,
            key: Mutex::new(None),
        }
    }

    /// Argon2id cost for a file this store creates (an existing file keeps its own).
    pub fn with_kdf_params(mut self, params: KdfParams) -> FileStore {
        self.new_file_params = params;
        self
    }

    pub fn with_lock_timeout(mut self, timeout: Duration) -> FileStore {
        self.lock_timeout = timeout;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Decrypts the file if it exists: a wrong passphrase or a damaged file shows up here.
    pub fn verify(&self) -> Result<(), StoreError> {
        self.read().map(|_| ())
    }

    fn io(&self, what: &'static str, path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io { what, path: path.to_path_buf(), source }
    }

    fn format(&self, detail: impl Into<String>) -> StoreError {
        StoreError::Format { path: self.path.clone(), detail: detail.into() }
    }

    /// The file's contents and header, or `None` when there is no file yet.
    fn read(&self) -> Result<Option<(Plain, Header)>, StoreError> {
        super::trace("file", "read");
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io("can't read the credential file", &self.path.clone(), e)),
        };
        let header = self.parse_header(&bytes)?;
        let key = self.key_for(&header)?;
        if key_check(&key).verify_truncated_left(&header.key_check).is_err() {
            // Forget a key that can't open this file, so a retry derives afresh.
            *self.key.lock().unwrap_or_else(|p| p.into_inner()) = None;
            return Err(StoreError::WrongPassphrase { path: self.path.clone() });
        }
        let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&header.nonce),
                    Payload { msg: &bytes[HEADER_LEN..], aad: &bytes[..HEADER_LEN] },
                )
                .map_err(|_| StoreError::Damaged {
                    path: self.path.clone(),
                    detail: "the passphrase is right, but the contents fail the integrity check",
                })?,
        );
        let plain: Plain = serde_json::from_slice(&plaintext).map_err(|_| StoreError::Damaged {
            path: self.path.clone(),
            detail: "the decrypted contents are not what sq writes",
        })?;
        Ok(Some((plain, header)))
    }

    fn parse_header(&self, bytes: &[u8]) -> Result<Header, StoreError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(self.format("it is not an sq credential file (it doesn't start with \"sq-creds\")"));
        }
        if bytes.len() < HEADER_LEN {
            return Err(self.format(format!(
                "it is truncated ({} bytes, the header alone is {HEADER_LEN})",
                bytes.len()
            )));
        }
        let version = bytes[8];
        if version > VERSION {
            return Err(StoreError::NewerFormat {
                path: self.path.clone(),
                found: version,
                supported: VERSION,
            });
        }
        if version == 0 {
            return Err(self.format("its format version is 0"));
        }
        if bytes[9] != KDF_ARGON2ID {
            return Err(self.format(format!("unknown key derivation {}", bytes[9])));
        }
        let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let params = KdfParams { memory_kib: u32_at(10), passes: u32_at(14), lanes: u32_at(18) };
        if !params.plausible() {
            return Err(self.format("its key derivation parameters are out of range"));
        }
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&bytes[22..38]);
        let mut nonce = [0u8; 24];
        nonce.copy_from_slice(&bytes[38..62]);
        let mut key_check = [0u8; 16];
        key_check.copy_from_slice(&bytes[62..78]);
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[78..86]);
        let want = u64::from_le_bytes(len);
        let have = (bytes.len() - HEADER_LEN) as u64;
        if have < want {
            return Err(self.format(format!("it is truncated ({have} of {want} bytes of contents)")));
        }
        if have > want || want < TAG_LEN as u64 {
            return Err(self.format("its length doesn't match its header"));
        }
        Ok(Header { params, salt, nonce, key_check })
    }

    /// The key for this salt and these parameters: from the cache, or derived now.
    fn key_for(&self, header: &Header) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        let mut cache = self.key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref() {
            if c.salt == header.salt && c.params == header.params {
                return Ok(c.key.clone());
            }
        }
        let key = derive(&self.passphrase, &header.salt, header.params).map_err(|e| self.format(e))?;
        *cache = Some(CachedKey { salt: header.salt, params: header.params, key: key.clone() });
        Ok(key)
    }

    fn encode(&self, plain: &Plain, previous: Option<&Header>) -> Result<Vec<u8>, StoreError> {
        let (salt, params) = match previous {
            Some(h) => (h.salt, h.params),
            None => (random::<16>()?, self.new_file_params),
        };
        let nonce = random::<24>()?;
        let key = self.key_for(&Header { params, salt, nonce, key_check: [0; 16] })?;
        let check = key_check(&key).finalize().into_bytes();

        let json = Zeroizing::new(serde_json::to_vec(plain).map_err(|e| self.format(e.to_string()))?);
        let mut out = Vec::with_capacity(HEADER_LEN + json.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(KDF_ARGON2ID);
        out.extend_from_slice(&params.memory_kib.to_le_bytes());
        out.extend_from_slice(&params.passes.to_le_bytes());
        out.extend_from_slice(&params.lanes.to_le_bytes());
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&check[..16]);
        out.extend_from_slice(&((json.len() + TAG_LEN) as u64).to_le_bytes());
        debug_assert_eq!(out.len(), HEADER_LEN);
        let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: &json, aad: &out })
            .map_err(|_| self.format("internal: encryption failed"))?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Read-modify-write under the lock. `change` returns whether it changed anything; when
    /// it didn't, the file is left alone (no write for deleting a missing entry).
    fn update<T>(&self, change: impl FnOnce(&mut Plain) -> (bool, T)) -> Result<T, StoreError> {
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        crate::fsutil::create_private_dir(dir).map_err(|e| self.io("can't create the directory", dir, e))?;
        super::with_lock(&self.lock_path, self.lock_timeout, || {
            // Under the lock no other sq is half-way through writing this file, so a temp file of
            // it is what a writer killed mid-write left behind (encrypted, but it is no one's).
            // Failing to remove one must not stop this write.
            let _ = crate::fsutil::remove_stale_temps(&self.path);
            // Re-read under the lock: another process may have written since we last looked.
            let (mut plain, header) = match self.read()? {
                Some((plain, header)) => (plain, Some(header)),
                None => (Plain { v: 1, entries: BTreeMap::new() }, None),
            };
            let (changed, result) = change(&mut plain);
            if changed {
                let bytes = self.encode(&plain, header.as_ref())?;
                super::trace("file", "write");
                crate::fsutil::write_atomic(&self.path, &bytes, 0o600)
                    .map_err(|e| self.io("can't write the credential file", &self.path.clone(), e))?;
            }
            Ok(result)
        })
    }
}

fn derive(passphrase: &Secret, salt: &[u8; 16], p: KdfParams) -> Result<Zeroizing<[u8; 32]>, String> {
    let params = argon2::Params::new(p.memory_kib, p.passes, p.lanes, Some(32)).map_err(|e| e.to_string())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose().as_bytes(), salt, key.as_mut_slice())
        .map_err(|e| e.to_string())?;
    Ok(key)
}

/// The MAC whose first 16 bytes are the header's key check.
fn key_check(key: &[u8; 32]) -> hmac::Hmac<sha2::Sha256> {
    // HMAC takes keys of any length, so this can't fail.
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(KEY_CHECK_INFO);
    mac
}

fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| StoreError::Backend {
        backend: "encrypted file".to_string(),
        detail: format!("the system's random number generator failed: {e}"),
    })?;
    Ok(out)
}

impl CredentialStore for FileStore {
    fn load(&self, account: &Account) -> Result<Option<Secret>, StoreError> {
        // No lock for reading: the file is only ever replaced whole, by rename.
        Ok(self
            .read()?
            .and_then(|(plain, _)| plain.entries.get(account.as_str()).map(|v| Secret::new(v.as_str()))))
    }

    fn save(&self, account: &Account, secret: &Secret) -> Result<(), StoreError> {
        self.update(|plain| {
            if let Some(mut old) = plain.entries.insert(account.to_string(), secret.expose().to_string()) {
                old.zeroize();
            }
            (true, ())
        })
    }

    fn delete(&self, account: &Account) -> Result<bool, StoreError> {
        if !self.path.exists() {
            return Ok(false);
        }
        self.update(|plain| match plain.entries.remove(account.as_str()) {
            Some(mut old) => {
                old.zeroize();
                (true, true)
            }
            None => (false, false),
        })
    }

    /// One read and one decryption for all of them.
    fn load_many(&self, accounts: &[Account]) -> Result<Vec<Option<Secret>>, StoreError> {
        let plain = self.read()?.map(|(plain, _)| plain);
        Ok(accounts
            .iter()
            .map(|a| plain.as_ref().and_then(|p| p.entries.get(a.as_str())).map(|v| Secret::new(v.as_str())))
            .collect())
    }

    /// One locked read-modify-write, one encrypted write.
    fn save_many(&self, items: &[(Account, Secret)]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        self.update(|plain| {
            for (account, secret) in items {
                if let Some(mut old) = plain.entries.insert(account.to_string(), secret.expose().to_string())
                {
                    old.zeroize();
                }
            }
            (true, ())
        })
    }

    fn delete_many(&self, accounts: &[Account]) -> Result<Vec<bool>, StoreError> {
        if !self.path.exists() || accounts.is_empty() {
            return Ok(vec![false; accounts.len()]);
        }
        self.update(|plain| {
            let gone: Vec<bool> = accounts
                .iter()
                .map(|a| match plain.entries.remove(a.as_str()) {
                    Some(mut old) => {
                        old.zeroize();
                        true
                    }
                    None => false,
                })
                .collect();
            (gone.iter().any(|g| *g), gone)
        })
    }

    fn kind(&self) -> StoreKind {
        StoreKind::File
    }

    fn describe(&self) -> String {
        format!("encrypted file {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path, pass: &str) -> FileStore {
        FileStore::new(dir.join("credentials.enc"), Secret::new(pass))
            .with_kdf_params(KdfParams::INSECURE_FAST_FOR_TESTS)
    }

    #[test]
    fn header_layout_is_as_documented() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), "pw");
        s.save(&Account::page("1"), &Secret::new("tok")).unwrap();
        let bytes = fs::read(s.path()).unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(bytes[8], VERSION);
        assert_eq!(bytes[9], KDF_ARGON2ID);
        assert_eq!(u32::from_le_bytes(bytes[10..14].try_into().unwrap()), 64);
        let len = u64::from_le_bytes(bytes[78..86].try_into().unwrap());
        assert_eq!(len as usize, bytes.len() - HEADER_LEN);
        assert!(!bytes.windows(3).any(|w| w == b"tok"), "plaintext in the file");
    }

    #[test]
    fn kdf_bounds_table() {
        const GIB: u32 = 1024 * 1024;
        const MIB: u32 = 1024;
        let p = |memory_kib, passes, lanes| KdfParams { memory_kib, passes, lanes };
        let cases = [
            (KdfParams::DEFAULT, true),
            (KdfParams::INSECURE_FAST_FOR_TESTS, true),
            (p(GIB, 1, 1), true),
            (p(256 * MIB, 4, 4), true),
            (p(64 * MIB, 16, 8), true),
            (p(8, 1, 1), true),
            (p(64, 1, 8), true),
            // What the old bound let through: 4 GiB × 64 passes ran for minutes.
            (p(4 * GIB, 64, 1), false),
            (p(4 * GIB, 1, 1), false),
            (p(GIB + 1, 1, 1), false),
            (p(GIB, 2, 1), false),
            (p(64 * MIB, 17, 1), false),
            (p(47_104, u32::MAX, 1), false),
            (p(u32::MAX, u32::MAX, 1), false),
            (p(0, 1, 1), false),
            (p(7, 1, 1), false),
            (p(63, 1, 8), false),
            (p(64, 0, 1), false),
            (p(64, 1, 0), false),
            (p(1024, 1, 9), false),
        ];
        for (params, want) in cases {
            assert_eq!(params.plausible(), want, "{params:?}");
        }
    }

    #[test]
    fn the_key_is_derived_once_per_salt() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), "pw");
        s.save(&Account::page("1"), &Secret::new("a")).unwrap();
        let salt = s.key.lock().unwrap().as_ref().unwrap().salt;
        s.save(&Account::page("2"), &Secret::new("b")).unwrap();
        assert_eq!(s.key.lock().unwrap().as_ref().unwrap().salt, salt, "the file kept its salt");
    }
}
