//! The pipe between [`super::OcrPool`] and an OCR worker process, and the worker's main loop.
//!
//! Every message is a frame: a 4-byte little-endian length, then the body.
//! - worker -> parent, once at start: JSON [`Reply::Ready`] or [`Reply::Failed`].
//! - parent -> worker: `LKO1`, width, height, dpi (u32 LE each), then width x height grey bytes.
//! - worker -> parent: JSON [`Reply::Done`] or [`Reply::Failed`].
//!
//! The worker reads pages until its stdin closes. It never writes anything else to stdout.

use std::io::{self, Read, Write};

use image::GrayImage;
use serde::{Deserialize, Serialize};

use super::{Engine, OcrResult};

const MAGIC: &[u8; 4] = b"LKO1";
/// Frames larger than this are refused (a 60-megapixel page is 60 MB).
pub(super) const MAX_FRAME: usize = 256 << 20;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Reply {
    Ready,
    Done(OcrResult),
    Failed(String),
}

pub(super) fn encode_request(img: &GrayImage, dpi: u32) -> Vec<u8> {
    let body_len = 16 + img.as_raw().len();
    let mut out = Vec::with_capacity(4 + body_len);
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
    out.extend_from_slice(MAGIC);
    for v in [img.width(), img.height(), dpi] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(img.as_raw());
    out
}

fn decode_request(body: Vec<u8>) -> Result<(GrayImage, u32), String> {
    if body.len() < 16 || &body[..4] != MAGIC {
        return Err("bad request header".into());
    }
    let word = |i: usize| u32::from_le_bytes([body[i], body[i + 1], body[i + 2], body[i + 3]]);
    let (w, h, dpi) = (word(4), word(8), word(12));
    let pixels = body[16..].to_vec();
    GrayImage::from_raw(w, h, pixels)
        .map(|img| (img, dpi))
        .ok_or_else(|| format!("request of {w}x{h} pixels has the wrong length"))
}

pub(super) fn encode_reply(reply: &Reply) -> Vec<u8> {
    let json = serde_json::to_vec(reply)
        .unwrap_or_else(|e| format!(r#"{{"failed":"encode reply: {e}"}}"#).into_bytes());
    let mut out = (json.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    out
}

pub(super) fn parse_reply(body: &[u8]) -> Result<Reply, String> {
    serde_json::from_slice(body).map_err(|e| format!("bad reply: {e}"))
}

/// One frame from a blocking reader; `None` at a clean end of input.
fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Some(body))
}

/// A test hook: `LOKET_TEST_CRASH_ON_WIDTH=<pixels>` makes the worker abort when asked to read a
/// page image of exactly that width, like a page that crashes the engine (see `pipeline`).
const CRASH_ON_WIDTH: &str = "LOKET_TEST_CRASH_ON_WIDTH";

/// The OCR worker process: load the languages, then answer page requests on stdin/stdout until
/// stdin closes. Returns the process exit code. Start it with `OMP_THREAD_LIMIT=1` in its
/// environment (the pool does): libgomp reads it when the library loads.
pub fn worker_main(languages: &str) -> i32 {
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    let mut engine = match Engine::new(languages) {
        Ok(e) => e,
        Err(e) => {
            let _ = stdout.write_all(&encode_reply(&Reply::Failed(e)));
            let _ = stdout.flush();
            return 2;
        }
    };
    if stdout
        .write_all(&encode_reply(&Reply::Ready))
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return 1;
    }
    let crash_on_width = std::env::var(CRASH_ON_WIDTH)
        .ok()
        .and_then(|v| v.parse::<u32>().ok());
    loop {
        let body = match read_frame(&mut stdin) {
            Ok(Some(b)) => b,
            Ok(None) => return 0,
            Err(e) => {
                eprintln!("ocr worker: reading request: {e}");
                return 1;
            }
        };
        let reply = match decode_request(body) {
            Ok((img, _)) if crash_on_width == Some(img.width()) => {
                eprintln!("ocr worker: {CRASH_ON_WIDTH}={}: aborting", img.width());
                std::process::abort();
            }
            Ok((img, dpi)) => match engine.recognize(&img, dpi) {
                Ok(r) => Reply::Done(r),
                Err(e) => Reply::Failed(e),
            },
            Err(e) => Reply::Failed(e),
        };
        if stdout
            .write_all(&encode_reply(&reply))
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips() {
        let img = GrayImage::from_fn(3, 2, |x, y| image::Luma([(x * 10 + y) as u8]));
        let frame = encode_request(&img, 150);
        let body = read_frame(&mut &frame[..]).unwrap().unwrap();
        let (back, dpi) = decode_request(body).unwrap();
        assert_eq!((back, dpi), (img, 150));
    }

    #[test]
    fn a_short_request_is_refused() {
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(&[9, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert!(decode_request(body).is_err());
    }
}
