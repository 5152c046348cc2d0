//! WebSocket close codes used by the server. An `error` frame never closes a
//! connection; these do.

/// Deliberate close (logout). Clients do not reconnect.
pub const NORMAL: u16 = 1000;
/// Server shutting down. Clients reconnect at once (with jitter).
pub const GOING_AWAY: u16 = 1001;
/// Policy violation: a client that keeps flooding after `rate_limited`.
pub const POLICY_VIOLATION: u16 = 1008;
/// A frame over the size limit.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// Server full (connection limits); try again later.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// Extension: the connection's outbound queue overflowed because the client
/// did not read fast enough. Clients reconnect and recover by `since_seq`.
pub const SLOW_CONSUMER: u16 = 4000;
/// Extension: the heartbeat found the peer silent for too long.
pub const HEARTBEAT_TIMEOUT: u16 = 4001;
/// Extension: the login session ended (logout, or "log out everywhere"):
/// the token is no longer accepted. Clients do not reconnect; they sign in
/// again.
pub const SESSION_ENDED: u16 = 4002;
