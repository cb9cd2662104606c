//! The token vault: credentials encrypted at rest with XChaCha20-Poly1305, bound to the row they
//! belong to (the connection or tenant id is the associated data), with a key id stored beside
//! each ciphertext so that keys can rotate.

use std::collections::HashMap;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};

use crate::StoreError;

const NONCE_LEN: usize = 24;

/// One 256-bit master key and its id (the first 8 hex digits of its SHA-256).
pub struct MasterKey {
    id: String,
    key: SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        Self {
            id,
            key: SecretBox::new(Box::new(bytes)),
        }
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &SecretString) -> Result<Self, StoreError> {
        let bytes = hex::decode(text.expose_secret().trim())
            .map_err(|_| StoreError::Vault("master key: expected 64 hex characters".into()))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            StoreError::Vault("master key: expected 32 bytes (64 hex characters)".into())
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// Reads the key file, which must exist.
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&SecretString::from(text)),
            Err(err) => Err(StoreError::Vault(format!(
                "cannot read the master key file {}: {err}",
                path.display()
            ))),
        }
    }

    /// Reads the key file, or creates it (mode 0600) with a new key on first run.
    pub fn load_or_create(path: &Path) -> Result<Self, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&SecretString::from(text)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private(path, &hex::encode(key.key.expose_secret()))?;
                // Read back: if another process won the race, its key is the one in the file.
                let text = std::fs::read_to_string(path).map_err(|err| {
                    StoreError::Vault(format!(
                        "cannot read the master key file {}: {err}",
                        path.display()
                    ))
                })?;
                Self::from_hex(&SecretString::from(text))
            }
            Err(err) => Err(StoreError::Vault(format!(
                "cannot read the master key file {}: {err}",
                path.display()
            ))),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Writes the key file atomically: a private temporary file, then linked into place, so that a
/// process killed halfway never leaves a truncated key behind. If another process created the
/// file first, its key wins and is read back by the caller.
fn write_private(path: &Path, text: &str) -> Result<(), StoreError> {
    let fail = |what: &str, err: std::io::Error| {
        StoreError::Vault(format!(
            "cannot {what} the master key file {}: {err}",
            path.display()
        ))
    };
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(|err| fail("create", err))?;
        file.write_all(text.as_bytes())
            .map_err(|err| fail("write", err))?;
        file.sync_all().map_err(|err| fail("write", err))?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(fail("create", err)),
    }
}

/// Encrypts with the current key; decrypts with whichever key a ciphertext names.
#[derive(Debug)]
pub struct Vault {
    current: String,
    keys: HashMap<String, MasterKey>,
}

/// A sealed secret: which key sealed it, and nonce + ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

impl Vault {
    pub fn new(current: MasterKey) -> Self {
        let id = current.id.clone();
        let mut keys = HashMap::new();
        keys.insert(id.clone(), current);
        Self { current: id, keys }
    }

    /// Adds an older key that can still decrypt (during a rotation).
    pub fn with_old_key(mut self, key: MasterKey) -> Self {
        self.keys.entry(key.id.clone()).or_insert(key);
        self
    }

    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Whether a ciphertext sealed under `key_id` can be opened.
    pub fn has_key(&self, key_id: &str) -> bool {
        self.keys.contains_key(key_id)
    }

    fn cipher(&self, key_id: &str) -> Result<XChaCha20Poly1305, StoreError> {
        let key = self.keys.get(key_id).ok_or_else(|| {
            StoreError::Vault(format!(
                "no master key with id {key_id}: was it rotated away?"
            ))
        })?;
        XChaCha20Poly1305::new_from_slice(key.key.expose_secret())
            .map_err(|_| StoreError::Vault("master key has the wrong length".into()))
    }

    /// Encrypts `plaintext` for the row `owner_id`.
    pub fn seal(&self, owner_id: &str, plaintext: &[u8]) -> Result<Sealed, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher(&self.current)?
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: owner_id.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Vault("encryption failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend(ciphertext);
        Ok(Sealed {
            key_id: self.current.clone(),
            bytes,
        })
    }

    /// Decrypts a secret of the row `owner_id`; fails if it was sealed for another row.
    pub fn open(&self, owner_id: &str, sealed: &Sealed) -> Result<Vec<u8>, StoreError> {
        if sealed.bytes.len() < NONCE_LEN {
            return Err(StoreError::Vault("ciphertext too short".into()));
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        self.cipher(&sealed.key_id)?
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner_id.as_bytes(),
                },
            )
            .map_err(|_| {
                StoreError::Vault(format!(
                    "cannot decrypt the secret of {owner_id}: wrong key or tampered data"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_bind_and_rotate() {
        let old = Vault::new(MasterKey::from_bytes([7; 32]));
        let sealed = old.seal("conn-1", b"token-value").expect("seal");
        assert!(!sealed.bytes.windows(11).any(|w| w == b"token-value"));
        assert_eq!(old.open("conn-1", &sealed).expect("open"), b"token-value");
        assert!(old.open("conn-2", &sealed).is_err(), "bound to its row");
        let rotated =
            Vault::new(MasterKey::from_bytes([8; 32])).with_old_key(MasterKey::from_bytes([7; 32]));
        assert_eq!(
            rotated
                .open("conn-1", &sealed)
                .expect("old key still opens"),
            b"token-value"
        );
        let resealed = rotated.seal("conn-1", b"token-value").expect("seal");
        assert_ne!(resealed.key_id, sealed.key_id);
        assert!(
            Vault::new(MasterKey::from_bytes([9; 32]))
                .open("conn-1", &sealed)
                .is_err()
        );
    }

    #[test]
    fn key_file_is_created_private_and_reread() {
        let dir = std::env::temp_dir().join(format!("sb-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("master.key");
        let first = MasterKey::load_or_create(&path).expect("create");
        let again = MasterKey::load_or_create(&path).expect("reread");
        assert_eq!(first.id(), again.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
