//! Pooled connections that went stale. Local servers close a keep-alive connection after
//! a few idle seconds (llama.cpp after 5), while the candidate is still typing; the next
//! request on it then fails before any byte comes back. That is the pool's own business,
//! not a fault of the server: the pool lets connections go first, and a request that
//! meets one closed anyway is sent once more, on a new connection, without a warning.

use std::time::Duration;

/// How long an idle pooled connection is kept: below the shortest keep-alive of the usual
/// local servers (llama.cpp's is 5 s), so grill lets go of a connection before the server
/// closes it under a request. A new connection to a local server costs well under a
/// millisecond; a grading takes seconds.
pub const POOL_IDLE: Duration = Duration::from_secs(4);

/// Whether `e` is a request sent on a connection the server had already closed: the
/// connection was made (this is not a refused or unreachable server), and it closed or
/// was reset before any response came back. Sending again on a new connection is then
/// safe: the server never began to answer.
pub fn is_stale_connection(e: &reqwest::Error) -> bool {
    if e.is_connect() || e.is_timeout() || e.is_status() || e.is_body() || e.is_decode() {
        return false;
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && matches!(io.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        let text = s.to_string().to_lowercase();
        if text.contains("connection closed before message completed") || text.contains("connection reset") {
            return true;
        }
        src = s.source();
    }
    false
}
