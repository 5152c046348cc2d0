//! Password hashing with argon2id, on a fixed set of hasher threads.
//!
//! argon2id is deliberately memory-hard: every hash fills 19 MiB. Run on
//! tokio's blocking pool, N concurrent logins meant N threads each
//! allocating (and the allocator then keeping) 19 MiB: an unauthenticated
//! client could grow the server's memory by sending logins in parallel.
//! Here a [`Hasher`] owns `workers` threads, each with one reusable block
//! buffer, fed from a bounded queue. Memory is `workers × 19 MiB` whatever
//! the load, and a full queue refuses at once ([`HashError::Busy`], a 503
//! with `Retry-After`) instead of piling up work.

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{mpsc, Arc, Mutex};
use tokio::sync::oneshot;

/// Largest memory cost accepted from a stored hash (KiB). Ours use the
/// default 19 MiB; a hash asking for more is refused rather than letting a
/// tampered row make a worker allocate without bound.
const MAX_MEMORY_KIB: u32 = 256 * 1024;

/// Salts are 16 bytes (22 base64 characters); PHC allows up to 64.
const MAX_SALT_BYTES: usize = 64;

/// Why a hash or a verification did not happen.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every worker is busy and the queue is full: try again shortly.
    #[error("too many password checks at once; try again in a moment")]
    Busy,
    /// The hasher failed, or a stored hash is malformed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    Verify {
        password: String,
        phc: String,
        reply: oneshot::Sender<Result<bool, HashError>>,
    },
}

/// A cheap handle on the hasher threads. The threads end when the last
/// handle is dropped.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::SyncSender<Job>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher")
    }
}

impl Hasher {
    /// Starts `workers` hasher threads (at least one) behind a queue of
    /// `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> Self {
        let (jobs, inbox) = mpsc::sync_channel::<Job>(queue);
        let inbox = Arc::new(Mutex::new(inbox));
        for n in 0..workers.max(1) {
            let inbox = Arc::clone(&inbox);
            let spawned = std::thread::Builder::new()
                .name(format!("hasher-{n}"))
                .spawn(move || work(&inbox));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hasher thread");
            }
        }
        Self { jobs }
    }

    /// Hashes `password` into a PHC string (`$argon2id$...`).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(|_| gone())?
    }

    /// Whether `password` matches the stored PHC string.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            phc,
            reply,
        })?;
        answer.await.map_err(|_| gone())?
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => HashError::Busy,
            mpsc::TrySendError::Disconnected(_) => gone(),
        })
    }
}

fn gone() -> HashError {
    HashError::Failed("the hasher threads have stopped".into())
}

/// One hasher thread: takes jobs until every [`Hasher`] handle is gone,
/// reusing one block buffer for all of them.
fn work(inbox: &Mutex<mpsc::Receiver<Job>>) {
    let mut blocks: Vec<Block> = Vec::new();
    loop {
        // The lock is held only while waiting for the next job: whichever
        // idle worker holds it takes the job, the others wait their turn.
        let job = match inbox.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A closed reply channel means the caller gave up: nothing to do.
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_with(&mut blocks, password.as_bytes()));
            }
            Job::Verify {
                password,
                phc,
                reply,
            } => {
                let _ = reply.send(verify_with(&mut blocks, password.as_bytes(), &phc));
            }
        }
    }
}

fn failed(e: impl std::fmt::Display) -> HashError {
    HashError::Failed(e.to_string())
}

/// `blocks` sized for `params`, growing the worker's buffer only when needed.
fn memory_for<'a>(blocks: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    let n = params.block_count();
    if blocks.len() < n {
        blocks.resize(n, Block::default());
    }
    &mut blocks[..n]
}

fn hash_with(blocks: &mut Vec<Block>, password: &[u8]) -> Result<String, HashError> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; MAX_SALT_BYTES];
    let salt_raw = salt.as_salt().decode_b64(&mut salt_buf).map_err(failed)?;
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    argon
        .hash_password_into_with_memory(password, salt_raw, &mut out, memory_for(blocks, &params))
        .map_err(failed)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(phc.to_string())
}

fn verify_with(blocks: &mut Vec<Block>, password: &[u8], phc: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(phc).map_err(failed)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(failed)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(failed)?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(failed)?;
    if params.m_cost() > MAX_MEMORY_KIB {
        return Err(HashError::Failed(format!(
            "stored hash asks for {} KiB, more than the {MAX_MEMORY_KIB} KiB allowed",
            params.m_cost()
        )));
    }
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return Err(HashError::Failed(
            "stored hash has no salt or output".into(),
        ));
    };
    let mut salt_buf = [0u8; MAX_SALT_BYTES];
    let salt_raw = salt.decode_b64(&mut salt_buf).map_err(failed)?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, salt_raw, &mut out, memory_for(blocks, &params))
        .map_err(failed)?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(failed)? == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = Hasher::new(1, 4);
        let phc = hasher.hash("correct horse".into()).await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher
            .verify("correct horse".into(), phc.clone())
            .await
            .expect("verify"));
        assert!(!hasher
            .verify("wrong horse".into(), phc.clone())
            .await
            .expect("verify"));
        // The PHC string is the standard one: the argon2 crate's own
        // verifier accepts it (hashes stored before this module stay valid
        // the other way round, see below).
        let parsed = PasswordHash::new(&phc).expect("parse");
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
    }

    #[tokio::test]
    async fn verifies_hashes_made_by_the_argon2_crate() {
        use argon2::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default()
            .hash_password(b"old account", &salt)
            .expect("hash")
            .to_string();
        let hasher = Hasher::new(1, 4);
        assert!(hasher
            .verify("old account".into(), phc.clone())
            .await
            .expect("verify"));
        assert!(!hasher.verify("other".into(), phc).await.expect("verify"));
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_match() {
        let hasher = Hasher::new(1, 4);
        let r = hasher.verify("x".into(), "not a phc string".into()).await;
        assert!(matches!(r, Err(HashError::Failed(_))), "{r:?}");
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_waiting() {
        // One worker and a queue of one: of many jobs submitted at once, at
        // most two are taken (one running, one waiting); the rest are Busy.
        let hasher = Hasher::new(1, 1);
        let attempts: Vec<_> = (0..8)
            .map(|i| {
                let h = hasher.clone();
                tokio::spawn(async move { h.hash(format!("password {i}")).await })
            })
            .collect();
        let mut busy = 0;
        let mut done = 0;
        for a in attempts {
            match a.await.expect("task") {
                Ok(_) => done += 1,
                Err(HashError::Busy) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(done >= 1, "some hashes ran");
        assert!(busy >= 1, "the rest were refused, not queued without bound");
        assert_eq!(done + busy, 8);
    }
}
