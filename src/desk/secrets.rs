//! Passwords, session ids, CSRF and API tokens.
//!
//! Passwords are hashed with argon2id (the crate's defaults: 19 MiB, 2 passes), salted per
//! account. Session ids and tokens are 256-bit random secrets; the database keeps only their
//! SHA-256, so a copy of the database opens no session.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;

/// A password that could not be hashed (argon2 refused its parameters or input).
#[derive(Debug, thiserror::Error)]
#[error("hash password: {0}")]
pub struct HashError(String);

/// The argon2id PHC string of a password.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether a password matches a stored hash (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so a failed login takes as long
/// whether or not the username is real.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("loket-dummy-password").unwrap_or_default())
}

/// A fresh random secret (256 bits, URL-safe base64 without padding).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// What the database stores of a secret.
pub fn hash_secret(secret: &str) -> String {
    crate::filing::blobs::sha256_hex(secret.as_bytes())
}

/// Compare two secrets in constant time (CSRF tokens).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let h = hash_password("rahasia-123").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("rahasia-123", &h));
        assert!(!verify_password("rahasia-124", &h));
        assert!(!verify_password("rahasia-123", "not a hash"));
        assert_ne!(h, hash_password("rahasia-123").unwrap(), "salted");
    }

    #[test]
    fn secrets_are_random_and_compare_exactly() {
        let a = new_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_secret());
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &new_secret()));
        assert!(!same_secret(&a, &a[..42]));
    }
}
