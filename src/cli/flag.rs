//! The flags by name, for messages: a [`Flag`] is checked by the compiler
//! where it is used, and by a test against clap's definition (`cli` tests).

/// One argument of the command line, by its clap id (the field name in
/// [`super::Cli`]).
/// Some flags are never named in a message; they are here so that the
/// test can hold every argument to a `Flag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub enum Flag {
    Targets,
    Host,
    Port,
    Timeout,
    ConnectTimeout,
    Method,
    Head,
    Headers,
    User,
    UserAgent,
    ExpectStatus,
    ExpectBody,
    ExpectJson,
    MaxBody,
    FollowRedirects,
    Proxy,
    Resolve,
    Insecure,
    Cacert,
    Cert,
    Key,
    Servername,
    Wait,
    Interval,
    UnixSocket,
    Output,
    Quiet,
    Verbose,
    Fail,
    Silent,
    ShowError,
    Command,
}

impl Flag {
    /// Every flag, for the test against clap's definition.
    #[cfg(test)]
    pub const ALL: [Flag; 32] = [
        Flag::Targets,
        Flag::Host,
        Flag::Port,
        Flag::Timeout,
        Flag::ConnectTimeout,
        Flag::Method,
        Flag::Head,
        Flag::Headers,
        Flag::User,
        Flag::UserAgent,
        Flag::ExpectStatus,
        Flag::ExpectBody,
        Flag::ExpectJson,
        Flag::MaxBody,
        Flag::FollowRedirects,
        Flag::Proxy,
        Flag::Resolve,
        Flag::Insecure,
        Flag::Cacert,
        Flag::Cert,
        Flag::Key,
        Flag::Servername,
        Flag::Wait,
        Flag::Interval,
        Flag::UnixSocket,
        Flag::Output,
        Flag::Quiet,
        Flag::Verbose,
        Flag::Fail,
        Flag::Silent,
        Flag::ShowError,
        Flag::Command,
    ];

    /// The clap id: the field's name in [`super::Cli`].
    pub fn id(self) -> &'static str {
        match self {
            Flag::Targets => "targets",
            Flag::Host => "host",
            Flag::Port => "port",
            Flag::Timeout => "timeout",
            Flag::ConnectTimeout => "connect_timeout",
            Flag::Method => "method",
            Flag::Head => "head",
            Flag::Headers => "headers",
            Flag::User => "user",
            Flag::UserAgent => "user_agent",
            Flag::ExpectStatus => "expect_status",
            Flag::ExpectBody => "expect_body",
            Flag::ExpectJson => "expect_json",
            Flag::MaxBody => "max_body",
            Flag::FollowRedirects => "follow_redirects",
            Flag::Proxy => "proxy",
            Flag::Resolve => "resolve",
            Flag::Insecure => "insecure",
            Flag::Cacert => "cacert",
            Flag::Cert => "cert",
            Flag::Key => "key",
            Flag::Servername => "servername",
            Flag::Wait => "wait",
            Flag::Interval => "interval",
            Flag::UnixSocket => "unix_socket",
            Flag::Output => "output",
            Flag::Quiet => "quiet",
            Flag::Verbose => "verbose",
            Flag::Fail => "fail",
            Flag::Silent => "silent",
            Flag::ShowError => "show_error",
            Flag::Command => "command",
        }
    }
}
