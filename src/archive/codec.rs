//! The compression around an archive's tar: read whatever is there (by its
//! magic bytes), write zstd (multi-threaded), gzip or plain tar. Plus the
//! small readers and writers the streams are made of.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::name::Compression;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Big reads: the data goes to a compressor, a hash or a socket.
pub const BUF: usize = 1 << 20;

/// The archive's tar, decompressed as it is read; and the compression found.
pub fn open(path: &Path) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    let decoder = Decoder::new(BufReader::with_capacity(BUF, File::open(path)?))?;
    let compression = decoder.compression();
    Ok((Box::new(decoder), compression))
}

/// Decompresses what is in `R`, whatever the compression (by its magic
/// bytes); [`Decoder::into_inner`] gives the reader back, to read what
/// follows the compressed stream.
pub enum Decoder<R: BufRead> {
    Zstd(zstd::Decoder<'static, R>),
    Gzip(flate2::bufread::MultiGzDecoder<R>),
    None(R),
}

impl<R: BufRead> Decoder<R> {
    pub fn new(mut r: R) -> io::Result<Self> {
        let head = r.fill_buf()?;
        Ok(if head.starts_with(&ZSTD_MAGIC) {
            Decoder::Zstd(zstd::Decoder::with_buffer(r)?)
        } else if head.starts_with(&GZIP_MAGIC) {
            Decoder::Gzip(flate2::bufread::MultiGzDecoder::new(r))
        } else {
            Decoder::None(r)
        })
    }

    pub fn compression(&self) -> Compression {
        match self {
            Decoder::Zstd(_) => Compression::Zstd,
            Decoder::Gzip(_) => Compression::Gzip,
            Decoder::None(_) => Compression::None,
        }
    }

    pub fn into_inner(self) -> R {
        match self {
            Decoder::Zstd(z) => z.finish(),
            Decoder::Gzip(g) => g.into_inner(),
            Decoder::None(r) => r,
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Zstd(z) => z.read(buf),
            Decoder::Gzip(g) => g.read(buf),
            Decoder::None(r) => r.read(buf),
        }
    }
}

/// A compressor writing into `W`; [`Encoder::finish`] writes the end of the stream.
pub enum Encoder<W: Write> {
    Zstd(zstd::Encoder<'static, W>),
    Gzip(flate2::write::GzEncoder<W>),
    None(W),
}

impl<W: Write> Encoder<W> {
    /// zstd at level 3 (the `zstd` CLI's default) on every core; gzip at level 6.
    pub fn new(compression: Compression, w: W) -> io::Result<Self> {
        Ok(match compression {
            Compression::Zstd => {
                let mut z = zstd::Encoder::new(w, 3)?;
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
                z.multithread(cores)?;
                Encoder::Zstd(z)
            }
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::new(6),
            )),
            Compression::None => Encoder::None(w),
        })
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Zstd(z) => z.finish(),
            Encoder::Gzip(g) => g.finish(),
            Encoder::None(w) => Ok(w),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Zstd(z) => z.write(buf),
            Encoder::Gzip(g) => g.write(buf),
            Encoder::None(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Zstd(z) => z.flush(),
            Encoder::Gzip(g) => g.flush(),
            Encoder::None(w) => w.flush(),
        }
    }
}

/// Passes writes on, hashing (sha256) and counting them.
pub struct Hashing<W> {
    pub inner: W,
    hash: Sha256,
    pub bytes: u64,
}

impl<W> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    /// `(hex sha256, bytes, inner)`.
    pub fn finish(self) -> (String, u64, W) {
        (hex(&self.hash.finalize()), self.bytes, self.inner)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes what is read through it.
pub struct HashingReader<R> {
    inner: R,
    hash: Sha256,
    pub bytes: u64,
}

impl<R> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    pub fn finish(self) -> (String, u64) {
        (hex(&self.hash.finalize()), self.bytes)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// What a reader reads, also written to `W` (the tar the scanner reads,
/// going on to a file or the daemon at the same time). A failed write is
/// kept in `write_error`, so the caller can tell it from a bad read (a full
/// disk is not a corrupt archive).
pub struct Tee<R, W> {
    pub inner: R,
    pub out: W,
    pub write_error: Option<io::Error>,
}

impl<R, W> Tee<R, W> {
    pub fn new(inner: R, out: W) -> Self {
        Tee {
            inner,
            out,
            write_error: None,
        }
    }
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.out.write_all(&buf[..n]) {
            let echo = io::Error::new(e.kind(), e.to_string());
            self.write_error = Some(e);
            return Err(echo);
        }
        Ok(n)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// The sha256 of a whole file, read in big blocks.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut r = HashingReader::new(File::open(path)?);
    io::copy(&mut r, &mut io::sink())?;
    Ok(r.finish().0)
}

/// Copies with a big buffer (io::copy's 8 KiB makes many small writes).
pub fn copy(r: &mut dyn Read, w: &mut dyn Write) -> io::Result<u64> {
    let mut buf = vec![0u8; BUF];
    let mut total = 0;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
}
