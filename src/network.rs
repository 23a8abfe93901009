//! The network a check reaches, or a replacement for it: the extension
//! point the tests and the fuzz targets use to answer a check from a script
//! instead of a server. For HTTP it is one more link of ureq's connector
//! chain (its documented `Connector` extension point, as ureq's own test
//! connector is); for gRPC, the stream h2 speaks over. Everything above
//! the connection is the code a real check runs. It imports nothing of the
//! crate: the config holds a [`Network`], the probe uses it.

use std::sync::Arc;

use ureq::unversioned::transport::{ConnectionDetails, Connector, Transport};

/// A replacement for the network of HTTP checks: given each connection's
/// details (the target's URL), the transport to speak HTTP/1.1 over.
pub type HttpLink =
    Arc<dyn Fn(&ConnectionDetails) -> Result<Box<dyn Transport>, ureq::Error> + Send + Sync>;

/// A replacement for the network of gRPC checks: the client's end of a
/// connection (called on the check's tokio runtime, where the other end
/// can be served).
#[cfg(feature = "grpc")]
pub type GrpcLink = Arc<dyn Fn() -> tokio::io::DuplexStream + Send + Sync>;

/// Where checks connect. The default is the network.
#[derive(Clone, Default)]
pub struct Network {
    /// HTTP checks speak over this instead of TCP (nothing is resolved).
    pub http: Option<HttpLink>,
    /// gRPC checks speak over this instead of TCP.
    #[cfg(feature = "grpc")]
    pub grpc: Option<GrpcLink>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("http", &self.http.as_ref().map(|_| "replaced"))
            .finish_non_exhaustive()
    }
}

/// The first link of an HTTP check's connector chain: the replacement
/// transport when there is one; otherwise nothing, and the proxy, TCP and
/// TLS links connect.
#[derive(Clone)]
pub(crate) struct NetworkLink(pub(crate) Option<HttpLink>);

impl std::fmt::Debug for NetworkLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetworkLink")
    }
}

impl Connector<()> for NetworkLink {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        match &self.0 {
            Some(link) => link(details).map(Some),
            None => Ok(None),
        }
    }
}
