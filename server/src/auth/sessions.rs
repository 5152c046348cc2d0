//! Login sessions: what makes a token mean something. Every login (and
//! register) stores a session and issues a token naming it (`sid`); a token
//! is accepted only while its session is neither revoked nor expired and its
//! user still exists, and the caller is then who the store says (current
//! name and admin flag), not who the token says.
//!
//! Ending a session (logout, or "log out everywhere") revokes it in the
//! store and closes its open WebSockets (4002, `protocol::close::SESSION_ENDED`)
//! and SSE streams at once.
//!
//! The check runs on every authenticated request and WebSocket handshake,
//! so its answer is cached in memory for [`FRESH_FOR`]: a cache hit costs a
//! hash lookup, not a query. Revoking here drops the entry at once; the TTL
//! only bounds how long a change made behind the server's back (a user row
//! deleted by hand) goes unnoticed.

use super::{AuthUser, Keys, TokenError};
use crate::cluster::Cluster;
use crate::error::AppError;
use crate::storage::{now_ms, Db, NewSession, StoreError};
use protocol::{User, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a checked session is trusted without asking the store again.
pub const FRESH_FOR: Duration = Duration::from_secs(10);
/// Cached sessions at most; past this, stale entries go (or all, if none is).
const MAX_CACHED: usize = 50_000;
/// Characters of a `User-Agent` kept with a session.
const MAX_USER_AGENT: usize = 200;

/// The session registry. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    keys: Keys,
    cluster: Cluster,
    /// Shared with the cluster, which drops a session ended on another node.
    cache: Arc<Mutex<Cache>>,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<String, Cached>,
    /// Bumped by every revocation. A check that read the store before a
    /// revocation must not cache what it read (it may be the live row the
    /// revocation just ended).
    revocations: u64,
}

struct Cached {
    /// `None`: no such session, revoked, or its user is gone.
    live: Option<Live>,
    fresh_until: Instant,
}

/// A live session as the store had it.
#[derive(Debug, Clone)]
struct Live {
    user: User,
    admin: bool,
    /// Milliseconds since the epoch.
    expires_at: i64,
}

impl Sessions {
    pub fn new(db: Db, keys: Keys, cluster: Cluster) -> Self {
        let cache: Arc<Mutex<Cache>> = Arc::default();
        let shared = cache.clone();
        cluster.on_session_ended(Box::new(move |sid| {
            lock(&shared).forget(std::slice::from_ref(&sid.to_owned()));
        }));
        Self {
            inner: Arc::new(Inner {
                db,
                keys,
                cluster,
                cache,
            }),
        }
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        lock(&self.inner.cache)
    }

    /// Starts a session for `user` (just logged in or registered) and returns
    /// its token, valid for the configured lifetime.
    pub async fn create(
        &self,
        user: &User,
        admin: bool,
        user_agent: Option<&str>,
    ) -> Result<String, AppError> {
        let sid = hex::encode(rand::random::<[u8; 16]>());
        let iat = super::jwt::now_s();
        let exp = iat.saturating_add(self.inner.keys.ttl().as_secs());
        let user_agent = user_agent.map(|ua| match ua.char_indices().nth(MAX_USER_AGENT) {
            Some((cut, _)) => &ua[..cut],
            None => ua,
        });
        self.inner
            .db
            .create_session(NewSession {
                id: &sid,
                user: user.id,
                expires_at: i64::try_from(exp.saturating_mul(1000)).unwrap_or(i64::MAX),
                user_agent,
            })
            .await?;
        self.inner
            .keys
            .issue_at(user, admin, &sid, iat, exp)
            .map_err(AppError::internal)
    }

    /// The caller a token stands for: a valid signature, a live session that
    /// belongs to the token's user, and that user as stored now. 401
    /// otherwise.
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser, AppError> {
        let claims = self
            .inner
            .keys
            .verify(token)
            .map_err(|e| AppError::Unauthorized(e.to_string()))?;
        let ended = || AppError::Unauthorized("the session has ended; log in again".into());
        let live = self.live(&claims.sid).await?.ok_or_else(ended)?;
        if live.user.id != claims.user_id {
            return Err(AppError::Unauthorized(TokenError::Invalid.to_string()));
        }
        if live.expires_at <= now_ms() {
            return Err(AppError::Unauthorized(TokenError::Expired.to_string()));
        }
        Ok(AuthUser {
            user: live.user,
            admin: live.admin,
            session: claims.sid,
        })
    }

    /// Whether session `sid` is still live (cached like [`Self::authenticate`]).
    pub async fn is_live(&self, sid: &str) -> Result<bool, StoreError> {
        Ok(self
            .live(sid)
            .await?
            .is_some_and(|l| l.expires_at > now_ms()))
    }

    /// The session `sid` if it is live, from the cache while fresh.
    async fn live(&self, sid: &str) -> Result<Option<Live>, StoreError> {
        let now = Instant::now();
        let epoch = {
            let cache = self.cache();
            if let Some(hit) = cache.entries.get(sid).filter(|c| c.fresh_until > now) {
                return Ok(hit.live.clone());
            }
            cache.revocations
        };
        let live = self
            .inner
            .db
            .session(sid)
            .await?
            .filter(|row| row.revoked_at.is_none())
            .map(|row| Live {
                user: row.to_user(),
                admin: row.is_admin,
                expires_at: row.expires_at,
            });
        let mut cache = self.cache();
        if cache.revocations == epoch {
            if cache.entries.len() >= MAX_CACHED {
                cache.entries.retain(|_, c| c.fresh_until > now);
                if cache.entries.len() >= MAX_CACHED {
                    cache.entries.clear();
                }
            }
            cache.entries.insert(
                sid.to_owned(),
                Cached {
                    live: live.clone(),
                    fresh_until: now + FRESH_FOR,
                },
            );
        }
        Ok(live)
    }

    /// Ends `caller`'s session: revoked in the store, then its WebSockets
    /// (4002) and SSE streams are closed.
    pub async fn revoke(&self, caller: &AuthUser) -> Result<(), AppError> {
        self.inner
            .db
            .revoke_session(&caller.session, caller.user.id)
            .await?;
        self.forget(caller.user.id, std::slice::from_ref(&caller.session));
        Ok(())
    }

    /// Ends every session of `user` ("log out everywhere"). Returns how many
    /// were live.
    pub async fn revoke_all(&self, user: UserId) -> Result<usize, AppError> {
        let ended = self.inner.db.revoke_sessions_of(user).await?;
        self.forget(user, &ended);
        Ok(ended.len())
    }

    /// After a revocation is stored: uncache the sessions, then close their
    /// connections. In this order, a WebSocket registering concurrently
    /// either is found here or finds the session revoked when it checks
    /// again after registering (`ws::connection`).
    /// On every node (the cluster tells the others to do the same).
    fn forget(&self, user: UserId, sids: &[String]) {
        self.cache().forget(sids);
        for sid in sids {
            let (sockets, streams) = self.inner.cluster.end_session(user, sid);
            tracing::info!(user_id = user.0, sockets, streams, "session ended");
        }
    }
}

fn lock(cache: &Mutex<Cache>) -> MutexGuard<'_, Cache> {
    cache.lock().unwrap_or_else(|p| p.into_inner())
}

impl Cache {
    /// Drops `sids`; a check in flight that read the store before this
    /// will not cache what it read.
    fn forget(&mut self, sids: &[String]) {
        self.revocations += 1;
        for sid in sids {
            self.entries.remove(sid);
        }
    }
}
