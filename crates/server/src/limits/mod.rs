//! What one client may use: requests per second before and after authentication, and open
//! WebSockets.

pub mod bucket;
pub mod rate;
pub mod sockets;
