//! TLS for tests: a self-signed server certificate that rustls accepts, an office CA that signs
//! server certificates (as an office's own CA does), and a client config that trusts exactly one
//! certificate.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use super::{server_dir, started};

/// Writes `cert.pem` and `key.pem` (EC P-256) into `dir`. rustls rejects a self-signed cert
/// used as a server cert unless it is `CA:FALSE` and names the host in subjectAltName.
pub fn make_self_signed(dir: &Path) -> Result<(), String> {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "3650", "-subj", "/CN=localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .map_err(|e| format!("run openssl (deploy/install-deps.sh installs it): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The office CA of this test binary (`ca.pem`, CA:TRUE), made on first use: what a test puts
/// in `ca_file` to trust the servers whose certificates it signed ([`make_signed_by_office_ca`]).
pub fn office_ca() -> &'static Path {
    static CA: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    started(&CA, || {
        let dir = server_dir("office-ca");
        openssl(
            Command::new("openssl")
                .args(["req", "-x509"])
                .args(EC_KEY)
                .args([
                    "-nodes",
                    "-days",
                    "3650",
                    "-subj",
                    "/CN=Loket Test Office CA",
                ])
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
                .arg("-keyout")
                .arg(dir.join("ca-key.pem"))
                .arg("-out")
                .arg(dir.join("ca.pem")),
        )?;
        Ok(dir.join("ca.pem"))
    })
    .as_path()
}

/// Writes `cert.pem` and `key.pem` (EC P-256) into `dir`: a server certificate for `localhost`
/// and `127.0.0.1` issued by [`office_ca`].
pub fn make_signed_by_office_ca(dir: &Path) -> Result<(), String> {
    let ca = office_ca();
    let ca_key = ca.with_file_name("ca-key.pem");
    openssl(
        Command::new("openssl")
            .args(["req", "-x509"])
            .arg("-CA")
            .arg(ca)
            .arg("-CAkey")
            .arg(&ca_key)
            .args(EC_KEY)
            .args(["-nodes", "-days", "3650", "-subj", "/CN=localhost"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .args(["-addext", "extendedKeyUsage=serverAuth"])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem")),
    )
}

const EC_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

fn openssl(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("run openssl (deploy/install-deps.sh installs it): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// A rustls client config (ring provider) whose only root is the PEM certificate at `ca_pem`.
pub fn rustls_client_config(ca_pem: &Path) -> Arc<rustls::ClientConfig> {
    let pem = std::fs::read(ca_pem).unwrap_or_else(|e| panic!("read {}: {e}", ca_pem.display()));
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.unwrap_or_else(|e| panic!("parse {}: {e}", ca_pem.display()));
        roots.add(cert).expect("add the test CA to the root store");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}
