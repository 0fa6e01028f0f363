//! HTTPS to the `ingress` target: a controller serves the chart's Ingress with the certificate
//! cert-manager issued for its host, so the suite speaks TLS to it, as a browser would. It
//! trusts only the CA in `HELLO_WORLD_INGRESS_CA` (the loopback cluster's own) and names
//! `HELLO_WORLD_HOST` in SNI and in the certificate check (RFC 6066, 3; RFC 9110, 4.3.4).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use testkit::client::{host, tcp, Connection};

pub struct Tls {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl Tls {
    /// TLS that trusts the certificates in the PEM file `ca` and nothing else.
    pub fn trusting(ca: &Path) -> Result<Tls, String> {
        let shown = ca.display();
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("{shown}: {e}"))? {
            let cert = cert.map_err(|e| format!("{shown}: {e}"))?;
            roots.add(cert).map_err(|e| format!("{shown}: {e}"))?;
        }
        if roots.is_empty() {
            return Err(format!("{shown} holds no certificate"));
        }
        let name = ServerName::try_from(host().to_owned())
            .map_err(|e| format!("HELLO_WORLD_HOST={:?} is not a server name: {e}", host()))?;
        let config = ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls {
            config: Arc::new(config),
            name,
        })
    }

    /// A connection to `addr` over TLS; the handshake happens with the first request.
    pub fn connect(&self, addr: SocketAddr) -> std::io::Result<Connection> {
        let session = ClientConnection::new(Arc::clone(&self.config), self.name.clone())
            .map_err(std::io::Error::other)?;
        Ok(Connection::over(StreamOwned::new(session, tcp(addr)?)))
    }
}
