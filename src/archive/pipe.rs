//! Bytes between the async side (the daemon's HTTP streams) and the blocking
//! side (compression, tar scanning, files), through bounded channels.

use std::io::{self, Read};

use bytes::Bytes;
use tokio::sync::mpsc;

pub type Chunk = io::Result<Bytes>;

/// Chunks in flight: with 1 MiB chunks, a few MiB of memory at most.
pub const DEPTH: usize = 8;

/// Reads what the async side sends; end of stream when the sender is dropped.
pub struct ChannelReader {
    rx: mpsc::Receiver<Chunk>,
    cur: Bytes,
}

impl ChannelReader {
    pub fn new(rx: mpsc::Receiver<Chunk>) -> Self {
        ChannelReader {
            rx,
            cur: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(e),
                Some(Ok(b)) => self.cur = b,
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur.split_to(n));
        Ok(n)
    }
}

/// Sends what is written to the async side, holding back the last
/// [`HOLD`] bytes until [`Forward::finish`]: the receiver (the daemon's
/// load) never sees a complete tar before the archive has been checked, and
/// a refused archive is cut off with an error instead.
pub struct Forward {
    tx: mpsc::Sender<Chunk>,
    pending: Vec<u8>,
}

/// More than a tar's end-of-archive blocks, so they are always held back.
pub const HOLD: usize = 64 << 10;
const CHUNK: usize = 1 << 20;

impl Forward {
    pub fn new(tx: mpsc::Sender<Chunk>) -> Self {
        Forward {
            tx,
            pending: Vec::with_capacity(HOLD + CHUNK),
        }
    }

    fn send(&self, chunk: Chunk) -> io::Result<()> {
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the daemon stopped reading"))
    }

    /// Sends the rest (`Ok`), or cuts the stream off with `Err(reason)`.
    pub fn finish(mut self, outcome: Result<(), String>) -> io::Result<()> {
        match outcome {
            Ok(()) => {
                let rest = std::mem::take(&mut self.pending);
                if !rest.is_empty() {
                    self.send(Ok(Bytes::from(rest)))?;
                }
                Ok(())
            }
            Err(reason) => self.send(Err(io::Error::other(reason))),
        }
    }
}

impl io::Write for Forward {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= HOLD + CHUNK {
            let n = self.pending.len() - HOLD;
            let chunk = Bytes::copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            self.send(Ok(chunk))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The receiving end as a stream of chunks (a request body).
pub fn stream(
    mut rx: mpsc::Receiver<Chunk>,
) -> impl futures_util::Stream<Item = Chunk> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
