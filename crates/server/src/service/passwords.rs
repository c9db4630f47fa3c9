//! Password hashing: argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane), off the
//! async threads, at most a few at once so a login flood cannot exhaust memory.

use std::sync::Arc;

use anyhow::anyhow;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A hash of nothing in particular, verified against when an account does not exist, so
    /// that "no such account" takes as long as "wrong password".
    decoy: Arc<String>,
}

impl Passwords {
    pub fn new() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let decoy = hash_blocking("roster-decoy-password")?;
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(cores * 2)),
            decoy: Arc::new(decoy),
        })
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) of `password` with a fresh salt.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.blocking(move || hash_blocking(&password)).await?
    }

    /// Whether `password` matches `hash`; `None` runs a decoy check and answers `false`.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let password = password.to_owned();
        let (hash, real) = match hash {
            Some(h) => (h.to_owned(), true),
            None => (self.decoy.as_str().to_owned(), false),
        };
        let matches = self
            .blocking(move || {
                Argon2::default()
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(real && matches)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::internal(anyhow!(e)))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::internal(anyhow!(e)))
    }
}

fn hash_blocking(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(anyhow!("hashing a password: {e}")))
}
