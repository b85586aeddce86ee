//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1), off the async threads,
//! with a bound on how much of it runs at once.

use anyhow::Context;
use argon2::password_hash::{
    self, Output, ParamsString, PasswordHash, Salt, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::{Semaphore, oneshot};

/// What a shed request is told to wait: the queue drains in well under a second
/// once a burst passes, so a client retrying after this is likely to get through.
const SHED_RETRY_AFTER: Duration = Duration::from_secs(1);

fn hasher() -> anyhow::Result<Argon2<'static>> {
    let params =
        Params::new(19_456, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Argon2's working memory, kept from one run to the next by whoever runs them.
///
/// argon2 0.5's PHC-string API allocates a fresh 64-byte-aligned 19 MiB buffer per
/// run, and glibc does not give those back to the system: measured on two threads,
/// the process grew by 19 MiB per run up to 375 MiB. Reusing one buffer per
/// hashing thread keeps the memory at one buffer per thread.
#[derive(Debug, Default)]
struct Memory(Vec<Block>);

impl Memory {
    /// Argon2 with `argon`'s parameters over this memory: the raw output of
    /// `output_len` bytes for `password` and `salt`.
    fn run(
        &mut self,
        argon: &Argon2<'_>,
        password: &str,
        salt: Salt<'_>,
        output_len: usize,
    ) -> anyhow::Result<Output> {
        let count = argon.params().block_count();
        if self.0.len() < count {
            self.0 = vec![Block::default(); count];
        }
        let blocks = self.0.get_mut(..count).unwrap_or_default();
        let mut salt_buf = [0u8; Salt::MAX_LENGTH];
        let salt = salt
            .decode_b64(&mut salt_buf)
            .map_err(|e| anyhow::anyhow!("password salt: {e}"))?;
        Output::init_with(output_len, |out| {
            Ok(argon.hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                out,
                &mut *blocks,
            )?)
        })
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    }

    /// Hashes a password into a PHC string with a fresh salt.
    fn hash(&mut self, password: &str) -> anyhow::Result<String> {
        let argon = hasher()?;
        let salt = SaltString::generate(&mut OsRng);
        let output = self.run(&argon, password, salt.as_salt(), Params::DEFAULT_OUTPUT_LEN)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params())
                .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// Checks a password against a PHC string with the parameters stored in it,
    /// comparing in constant time (`Output`'s equality). With no stored hash
    /// (unknown email, pending invitation) a dummy hash is computed anyway, so the
    /// response time does not reveal whether the account exists.
    fn verify(&mut self, password: &str, stored: Option<&str>) -> anyhow::Result<bool> {
        let Some(phc) = stored else {
            self.hash(password)?;
            return Ok(false);
        };
        let unreadable = |e: password_hash::Error| anyhow::anyhow!("stored hash unreadable: {e}");
        let parsed = PasswordHash::new(phc).map_err(unreadable)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(anyhow::anyhow!("stored hash has no salt or output"));
        };
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(unreadable)?;
        let version = match parsed.version {
            Some(v) => {
                Version::try_from(v).map_err(|e| anyhow::anyhow!("stored hash version: {e}"))?
            }
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).map_err(unreadable)?;
        let argon = Argon2::new(algorithm, version, params);
        Ok(self.run(&argon, password, salt, expected.len())? == expected)
    }
}

/// Hashes a password into a PHC string, without the request bound: for the
/// command line and the demo seed, which run once and are not reachable by callers.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || Memory::default().hash(&password))
        .await
        .context("password hashing task")?
}

/// Why bounded password work did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every slot stayed busy for the whole queue time; the request is shed.
    #[error("every password hashing slot is busy")]
    Saturated { retry_after: Duration },
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// The password hashing and checking that requests do, at most `slots` at a time.
///
/// Each Argon2 run holds 19 MiB and a core for tens of milliseconds. Run on the
/// blocking pool, one per request, a few hundred concurrent unauthenticated
/// sign-ins or sign-ups meant gigabytes and every core. Here they run on `slots`
/// threads of their own; callers beyond that wait in the semaphore's first-come
/// queue for at most `queue`, then are shed (503 with `Retry-After`) instead of
/// piling up behind each other.
///
/// The threads are its own, not the blocking pool's, so that each keeps its Argon2
/// [`Memory`] from run to run: the process holds `slots` buffers of 19 MiB, however
/// many requests come.
#[derive(Debug)]
pub struct PasswordWork {
    slots: Arc<Semaphore>,
    queue: Duration,
    jobs: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

impl PasswordWork {
    /// Starts `slots` hashing threads (0: one per available core).
    pub fn new(slots: usize, queue: Duration) -> anyhow::Result<Self> {
        let slots = match slots {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let (jobs, inbox) = mpsc::channel::<Job>();
        let inbox = Arc::new(Mutex::new(inbox));
        for n in 0..slots {
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || hashing_thread(&inbox))
                .context("start a password hashing thread")?;
        }
        Ok(Self {
            slots: Arc::new(Semaphore::new(slots)),
            queue,
            jobs,
        })
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.run(move |memory| memory.hash(&password)).await
    }

    /// Checks a password against a PHC string in constant time; see
    /// [`Memory::verify`] for an absent hash.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        self.run(move |memory| memory.verify(&password, stored.as_deref()))
            .await
    }

    /// Runs `work` on a hashing thread once a slot is free. The slot travels with
    /// the job, so it is released when the hashing really ends, even if the request
    /// was dropped meanwhile (a client that hung up).
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let slot = tokio::time::timeout(self.queue, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| PasswordError::Saturated {
                retry_after: SHED_RETRY_AFTER,
            })?
            .context("password hashing slots closed")?;
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Box::new(move |memory: &mut Memory| {
                let _slot = slot;
                let _ = done.send(work(memory));
            }))
            .map_err(|_| anyhow::anyhow!("the password hashing threads have stopped"))?;
        Ok(result.await.context("password hashing job lost")??)
    }
}

/// A hashing thread: runs jobs until the [`PasswordWork`] is dropped. A job that
/// panics loses its answer (the caller sees an error), not the thread.
fn hashing_thread(inbox: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        let next = match inbox.lock() {
            Ok(inbox) => inbox.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else {
            return;
        };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_and_a_wrong_password_does_not() {
        let work = PasswordWork::new(1, Duration::from_secs(5)).unwrap();
        let phc = work.hash("correct horse".to_owned()).await.unwrap();
        assert!(
            work.verify("correct horse".to_owned(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(!work.verify("wrong".to_owned(), Some(phc)).await.unwrap());
        assert!(!work.verify("anything".to_owned(), None).await.unwrap());
    }

    #[test]
    fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = Memory::default().hash("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            hasher()
                .unwrap()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            hasher()
                .unwrap()
                .verify_password(b"wrong", &parsed)
                .is_err()
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = hasher()
            .unwrap()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        let mut memory = Memory::default();
        assert!(memory.verify("correct horse", Some(&theirs)).unwrap());
        assert!(!memory.verify("wrong", Some(&theirs)).unwrap());
        // Stored parameters win over ours: a hash made with other costs still checks.
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        let other = cheap.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(memory.verify("pw", Some(&other)).unwrap());
        assert!(memory.verify("pw", Some("not a phc string")).is_err());
    }

    #[tokio::test]
    async fn work_beyond_the_slots_is_shed_after_the_queue_time() {
        let work = PasswordWork::new(1, Duration::from_millis(20)).unwrap();
        let held = work.slots.clone().acquire_owned().await.unwrap();
        match work.hash("pw".to_owned()).await {
            Err(PasswordError::Saturated { retry_after }) => {
                assert!(retry_after >= Duration::from_secs(1))
            }
            other => panic!("expected to be shed, got {other:?}"),
        }
        drop(held);
        assert!(
            work.hash("pw".to_owned()).await.is_ok(),
            "a freed slot was not reused"
        );
    }
}
