//! The `tcp://host:port` check: healthy when a TCP connection opens within
//! the connect budget (the Kubernetes tcpSocket probe).

use super::check::{Answer, Check, Failure, Kind};
use super::deadline::Deadline;
use super::trace::{Event, Progress};
use super::{connect, reason};
use crate::config::{Config, Target};

/// Checks `target` within `deadline`: resolve, then every address in turn
/// until one opens, by `--connect-timeout` (or the end of the attempt).
pub(super) fn check(
    target: &Target,
    config: &Config,
    deadline: Deadline,
    progress: &Progress,
) -> Check {
    let mut check = Check::new(target, Kind::Tcp);
    let connected = connect::resolve(
        &target.host,
        target.port,
        &config.resolve,
        config.family,
        deadline.end,
        progress,
    )
    .and_then(|addrs| connect::tcp(&addrs, deadline.connect_by(), progress));
    match connected {
        Ok(stream) => {
            if let Ok(peer) = stream.peer_addr() {
                progress.event(Event::Connected {
                    to: &peer.to_string(),
                    tls: false,
                    proxy: false,
                });
            }
            check.answer = Some(Answer::Connected);
        }
        Err(e) => {
            check.failure = Some(Failure::Error(reason::describe(
                &e,
                progress.phase(),
                &deadline,
            )))
        }
    }
    check
}
