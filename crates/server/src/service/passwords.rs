//! Password hashing: argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane), off the
//! async threads, on a fixed set of hashing threads (one per core), each hashing in one
//! 19 MiB block of memory that it keeps for its life.
//!
//! Why: argon2's own API allocates and frees 19 MiB per hash. glibc then raises its mmap
//! threshold above that size and serves the next ones from its arenas, which keep the freed
//! memory: with `spawn_blocking` (many threads, many arenas) a login burst took a 60 MiB server
//! past 600 MiB, and even one thread at a time grew it by ~190 MiB. Reusing one block per
//! thread bounds the memory at cores × 19 MiB, and saves the page faults of a fresh block per
//! hash. As many hashes at once as there are cores is all the CPU can run anyway; the rest
//! queue.

use std::cell::RefCell;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use anyhow::anyhow;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Passwords {
    /// Work for the hashing threads; they stop when the last `Passwords` is dropped.
    jobs: mpsc::Sender<Job>,
    /// A hash of nothing in particular, verified against when an account does not exist, so
    /// that "no such account" takes as long as "wrong password".
    decoy: Arc<String>,
}

impl Passwords {
    pub fn new() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..cores {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || run_jobs(&queue))
                .map_err(|e| Error::internal(anyhow!("starting a hashing thread: {e}")))?;
        }
        let decoy = hash_blocking("roster-decoy-password")?;
        Ok(Passwords {
            jobs,
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
            .blocking(move || verify_blocking(&password, &hash))
            .await?;
        Ok(real && matches)
    }

    /// Runs `work` on a hashing thread and waits for its answer.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::internal(anyhow!("the hashing threads have stopped")))?;
        answered
            .await
            .map_err(|_| Error::internal(anyhow!("a hashing job was dropped")))
    }
}

/// A hashing thread: runs jobs until every sender is gone.
fn run_jobs(queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

thread_local! {
    /// This thread's argon2 working memory, reused by every hash it computes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2 of `password` and `salt` into `out`, in this thread's working memory.
fn argon2_into(
    argon2: &Argon2,
    params: &Params,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    MEMORY.with_borrow_mut(|blocks| {
        blocks.resize(params.block_count(), Block::default());
        argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks[..])
    })
}

/// The PHC string of `password` with a fresh salt and the default (OWASP) parameters.
fn hash_blocking(password: &str) -> Result<String> {
    let failed = |e: &dyn std::fmt::Display| Error::internal(anyhow!("hashing a password: {e}"));
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = Salt::generate();
    let mut out = vec![0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon2, &params, password, &salt, &mut out).map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc`, with the parameters the string names.
fn verify_blocking(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str());
    let version = Version::try_from(parsed.version.unwrap_or(Version::V0x13.into()));
    let params = Params::try_from(&parsed);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, params) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    if argon2_into(&argon2, &params, password, salt, &mut out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| &computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn hashes_verify_here_and_with_argon2_itself() {
        let hash = hash_blocking("s3cret-pw").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_blocking("s3cret-pw", &hash));
        assert!(!verify_blocking("other-pw", &hash));
        assert!(Argon2::default()
            .verify_password(b"s3cret-pw", hash.as_str())
            .is_ok());
    }

    #[test]
    fn hashes_made_by_argon2_itself_verify() {
        use argon2::PasswordHasher;
        let hash = Argon2::default()
            .hash_password(b"pw-from-elsewhere")
            .unwrap()
            .to_string();
        assert!(verify_blocking("pw-from-elsewhere", &hash));
        assert!(!verify_blocking("pw-from-elsewher", &hash));
        assert!(!verify_blocking("x", "not a phc string"));
    }
}
