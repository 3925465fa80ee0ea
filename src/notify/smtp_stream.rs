//! The socket under lettre's SMTP connection.
//!
//! lettre writes a message and its final `.` in two writes, each flushed. On a socket with
//! Nagle's algorithm the dot then waits for the server's (delayed) ACK of the body, about 40 ms
//! per mail on loopback, which made SMTP the largest cost of intake. This stream sets
//! TCP_NODELAY and keeps what is written until the client reads the server's answer: SMTP is
//! request and response, so every command, and every message with its final dot, leaves in one
//! write the moment the client starts waiting for the reply.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures::FutureExt;
use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP connection (TCP_NODELAY) whose writes go out when the client next reads.
pub(crate) struct CoalescingStream {
    tcp: Arc<TcpStream>,
    out: Vec<u8>,
    sent: usize,
}

/// A second handle on the socket, to see without a round trip whether an idle connection was
/// closed by the server ([`is_closed`]).
pub(crate) type Probe = Arc<TcpStream>;

impl CoalescingStream {
    pub fn new(tcp: TcpStream) -> io::Result<(Self, Probe)> {
        tcp.set_nodelay(true)?;
        let tcp = Arc::new(tcp);
        let stream = Self {
            tcp: tcp.clone(),
            out: Vec::with_capacity(4096),
            sent: 0,
        };
        Ok((stream, tcp))
    }

    /// Write out everything kept so far.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.out.len() {
            ready!(self.tcp.poll_write_ready(cx))?;
            match self.tcp.try_write(&self.out[self.sent..]) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        self.out.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

/// Has the server closed this idle connection (or said something unasked, like `421`)? Looked
/// at without waiting: a connection that shows nothing is taken to be alive.
pub(crate) fn is_closed(probe: &Probe) -> bool {
    let mut byte = [0u8; 1];
    match probe.peek(&mut byte).now_or_never() {
        None => false,
        Some(Ok(_)) | Some(Err(_)) => true,
    }
}

impl fmt::Debug for CoalescingStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CoalescingStream({:?})", self.tcp.peer_addr().ok())
    }
}

impl AsyncRead for CoalescingStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send(cx))?;
        loop {
            ready!(this.tcp.poll_read_ready(cx))?;
            match this.tcp.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for CoalescingStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().out.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    /// Kept until the next read (see the module doc); a flush sends nothing by itself.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_send(cx)
    }
}

impl AsyncTokioStream for CoalescingStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }
}

/// [`CoalescingStream`] in TLS from the first byte (`security = "tls"`, port 465).
pub(crate) struct TlsCoalescing(pub tokio_rustls::client::TlsStream<CoalescingStream>);

impl fmt::Debug for TlsCoalescing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tls({:?})", self.0.get_ref().0)
    }
}

impl AsyncRead for TlsCoalescing {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsCoalescing {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsCoalescing {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A command and a message with its dot, written and flushed separately, reach the server
    /// as one segment only once the client reads; a closed peer is seen without a round trip.
    #[tokio::test]
    async fn writes_leave_together_when_the_client_reads() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let (mut stream, probe) =
                CoalescingStream::new(TcpStream::connect(addr).await.unwrap()).unwrap();
            stream.write_all(b"body\r\n").await.unwrap();
            stream.flush().await.unwrap();
            stream.write_all(b".\r\n").await.unwrap();
            stream.flush().await.unwrap();
            let mut reply = [0u8; 5];
            stream.read_exact(&mut reply).await.unwrap();
            assert_eq!(&reply, b"250\r\n");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            assert!(is_closed(&probe), "the server closed the connection");
        });
        let (mut server, _) = listener.accept().await.unwrap();
        let mut got = [0u8; 64];
        let n = server.read(&mut got).await.unwrap();
        assert_eq!(&got[..n], b"body\r\n.\r\n", "one segment with body and dot");
        server.write_all(b"250\r\n").await.unwrap();
        drop(server);
        client.await.unwrap();
    }
}
