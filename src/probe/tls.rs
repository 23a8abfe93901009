//! TLS for `https://` targets: rustls over whatever transport comes before
//! it in ureq's connector chain (TCP, an HTTP proxy's CONNECT tunnel, a
//! Unix socket), through ureq's `Connector` extension point, with the
//! rustls client config the config layer built (its verifier trusts a
//! certificate `--cacert` names exactly; see `config/verify.rs`).

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

use super::trace::{Phase, Progress};
use crate::config::{LazyClientConfig, bare_host};

/// Wraps the chained transport in TLS when the URL is `https://` (the
/// target's, or a same-host redirect's), with the rustls config the config
/// layer builds when first asked.
#[derive(Debug)]
pub(super) struct TlsConnector {
    pub(super) config: Arc<LazyClientConfig>,
    pub(super) progress: Arc<Progress>,
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let config: Arc<ClientConfig> = self
            .config
            .get()
            .map_err(|e| ureq::Error::Io(std::io::Error::other(e)))?;
        let host = details.uri.host().unwrap_or_default();
        let name = ServerName::try_from(bare_host(host).to_string())
            .map_err(|_| ureq::Error::Tls("not a DNS name or IP address"))?;
        let mut conn = ClientConnection::new(config.clone(), name)
            .map_err(|e| ureq::Error::Io(std::io::Error::other(e)))?;
        self.progress.set(Phase::Tls);
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        Ok(Some(Either::B(TlsTransport {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            stream: StreamOwned { conn, sock },
        })))
    }
}

/// HTTP/1.1 over rustls over the chained transport.
pub(super) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
