//! The sandbox's stdout and stderr: in-memory pipes that keep at most a fixed number of bytes.
//! A write past the bound keeps what fits and then stops the run with a trap, so a print loop
//! costs neither host memory nor the rest of the CPU budget. (wasmtime-wasi's
//! `MemoryOutputPipe` traps too, but drops the whole overflowing write and cannot say afterwards
//! that the bound was the reason.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// The message of the trap that ends a run at the output bound.
pub const OUTPUT_LIMIT_TRAP: &str = "the sandbox's output limit was reached";

/// One bounded output stream; clones share the buffer.
#[derive(Clone)]
pub struct BoundedOutput {
    cap: usize,
    kept: Arc<Mutex<Vec<u8>>>,
    overflowed: Arc<AtomicBool>,
}

impl BoundedOutput {
    /// A pipe keeping up to `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            kept: Arc::default(),
            overflowed: Arc::default(),
        }
    }

    /// What was written (lossy UTF-8), and whether more was attempted than kept.
    pub fn take(&self) -> (String, bool) {
        let kept = std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()));
        (
            String::from_utf8_lossy(&kept).into_owned(),
            self.overflowed.load(Ordering::Relaxed),
        )
    }

    /// Whether a write went past the bound.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Keep what fits of `bytes`; `false` when some did not.
    fn keep(&self, bytes: &[u8]) -> bool {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.cap.saturating_sub(kept.len());
        kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if bytes.len() > room {
            self.overflowed.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for BoundedOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        if self.keep(&bytes) {
            Ok(())
        } else {
            Err(StreamError::Trap(wasmtime::format_err!(OUTPUT_LIMIT_TRAP)))
        }
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always accept a full chunk, so the write that crosses the bound is the one that traps
        // (a stream that reports no room would leave the guest waiting forever).
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for BoundedOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for BoundedOutput {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.keep(buf) {
            Poll::Ready(Ok(buf.len()))
        } else {
            Poll::Ready(Err(std::io::Error::other(OUTPUT_LIMIT_TRAP)))
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for BoundedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for BoundedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_up_to_the_bound_and_says_when_more_came() {
        let mut out = BoundedOutput::new(5);
        assert!(out.write(Bytes::from_static(b"abc")).is_ok());
        assert!(matches!(
            out.write(Bytes::from_static(b"defg")),
            Err(StreamError::Trap(_))
        ));
        assert_eq!(out.take(), ("abcde".to_string(), true));
    }
}
