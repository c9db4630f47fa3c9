//! Webhook secrets at rest. A webhook's signing key is stored sealed with ChaCha20-Poly1305
//! (ring) under a 32-byte key that lives outside the database: the file
//! `<data-dir>/webhook-secrets.key` (made on first start, mode 0600) or the one
//! `--webhook-key-file` names. A copy of the database alone does not reveal the keys;
//! replicas sharing one database must share the key file. The sealed text is bound to its
//! webhook (domain and id are the associated data), so a sealed key cannot be moved to
//! another webhook's row. Keys stored before sealing existed (no prefix) are read as they
//! are and sealed the next time their webhook is updated.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};

/// The file name of the key in the data directory.
pub const KEY_FILE: &str = "webhook-secrets.key";
/// Marks a sealed value: `sealed1:` + base64(nonce ‖ ciphertext ‖ tag).
const PREFIX: &str = "sealed1:";
const KEY_LEN: usize = 32;

/// Seals and opens webhook secrets; cheap to clone.
#[derive(Clone)]
pub struct SecretSeal {
    key: Arc<LessSafeKey>,
}

impl std::fmt::Debug for SecretSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSeal(<key>)")
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// What a sealed secret is bound to.
fn aad_of(domain_id: &str, webhook_id: &str) -> String {
    format!("{domain_id}/{webhook_id}")
}

impl SecretSeal {
    pub fn from_key(bytes: &[u8; KEY_LEN]) -> anyhow::Result<SecretSeal> {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, bytes)
            .map_err(|_| anyhow::anyhow!("ChaCha20-Poly1305 refused a 32-byte key"))?;
        Ok(SecretSeal {
            key: Arc::new(LessSafeKey::new(unbound)),
        })
    }

    /// A seal with a fresh random key (tests and scratch services).
    pub fn random() -> anyhow::Result<SecretSeal> {
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SecretSeal::from_key(&key)
    }

    /// The key in `path` (base64 of 32 bytes); made there, readable by its owner only, when
    /// the file does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<SecretSeal> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = b64()
                    .decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; KEY_LEN]>::try_from(b).ok())
                    .with_context(|| {
                        format!("{} does not hold a base64 32-byte key", path.display())
                    })?;
                SecretSeal::from_key(&bytes)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SecretSeal::create(path),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Makes the key file. The key is written whole under a name of this process's own, then
    /// linked to `path` (a link never replaces a file): another process starting at the same
    /// moment either links first, and this one reads its key, or finds the whole file, never
    /// one made but not yet written.
    fn create(path: &Path) -> anyhow::Result<SecretSeal> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let mut own_name = path.as_os_str().to_owned();
        own_name.push(format!(".{}", crate::ids::random_hex(8)));
        let own = std::path::PathBuf::from(own_name);
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&own)
            .and_then(|mut file| {
                writeln!(file, "{}", b64().encode(key))?;
                file.sync_all()
            });
        let linked = written.and_then(|()| std::fs::hard_link(&own, path));
        let _ = std::fs::remove_file(&own);
        match linked {
            Ok(()) => SecretSeal::from_key(&key),
            // Another process made it first: use its key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                SecretSeal::load_or_create(path)
            }
            Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }

    /// `secret` sealed for the webhook `webhook_id` of `domain_id`.
    pub fn seal(&self, domain_id: &str, webhook_id: &str, secret: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut sealed = secret.as_bytes().to_vec();
        let aad = aad_of(domain_id, webhook_id);
        // Sealing fails only for inputs of gigabytes.
        if self
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut sealed,
            )
            .is_err()
        {
            return String::new();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", b64().encode(out))
    }

    /// The secret in a stored value: opened when sealed, as it is when stored before sealing;
    /// `None` when it was sealed under another key (or for another webhook).
    pub fn open(&self, domain_id: &str, webhook_id: &str, stored: &str) -> Option<String> {
        let Some(sealed) = stored.strip_prefix(PREFIX) else {
            return Some(stored.to_owned());
        };
        let bytes = b64().decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = sealed.to_vec();
        let aad = aad_of(domain_id, webhook_id);
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut in_out)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// Whether a stored value is sealed (values from before sealing are not).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_for_its_webhook() {
        let seal = SecretSeal::random().unwrap();
        let sealed = seal.seal("d", "wh_1", "c2VjcmV0");
        assert!(SecretSeal::is_sealed(&sealed));
        assert!(!sealed.contains("c2VjcmV0"));
        assert_eq!(seal.open("d", "wh_1", &sealed).as_deref(), Some("c2VjcmV0"));
        assert_eq!(seal.open("d", "wh_2", &sealed), None);
        assert_eq!(seal.open("e", "wh_1", &sealed), None);
        assert_eq!(
            SecretSeal::random().unwrap().open("d", "wh_1", &sealed),
            None
        );
        // Sealing twice gives different texts (fresh nonces).
        assert_ne!(sealed, seal.seal("d", "wh_1", "c2VjcmV0"));
        // A key stored before sealing is read as it is.
        assert_eq!(seal.open("d", "wh_1", "plain").as_deref(), Some("plain"));
    }

    /// Replicas sharing a data directory start at the same moment: every one of them gets
    /// the one key, none reads a file another has made but not yet written (which made a
    /// replica exit at start under load).
    #[test]
    fn processes_starting_at_once_all_read_the_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(KEY_FILE);
            let start = std::sync::Barrier::new(8);
            let sealed: Vec<anyhow::Result<String>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            start.wait();
                            SecretSeal::load_or_create(&path).map(|seal| seal.seal("d", "w", "x"))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let reader = SecretSeal::load_or_create(&path).unwrap();
            for made in sealed {
                let made = made.unwrap();
                assert_eq!(reader.open("d", "w", &made).as_deref(), Some("x"));
            }
            let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(names.len(), 1, "only the key file is left");
        }
    }

    #[test]
    fn the_key_file_is_made_once_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let first = SecretSeal::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = SecretSeal::load_or_create(&path).unwrap();
        let sealed = first.seal("d", "w", "s");
        assert_eq!(again.open("d", "w", &sealed).as_deref(), Some("s"));
        std::fs::write(&path, "not a key").unwrap();
        assert!(SecretSeal::load_or_create(&path).is_err());
    }
}
