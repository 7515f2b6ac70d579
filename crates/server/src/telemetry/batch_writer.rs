//! The JSON log's writer: lines are appended to a shared buffer and written to stderr by a
//! background thread every [`INTERVAL`], in one `write` per batch.
//!
//! Why: under `serve` every request logs an access line, and an unbuffered `write(2)` per line
//! was the largest single cost of logging (about 2.5 us of CPU per request on the benchmark
//! machine, docs/benchmarks.md). Handing each line to a thread over a channel would cost a
//! futex wake-up per line instead; a mutex-protected buffer that the writer thread drains on a
//! timer costs the request an uncontended lock and a copy.
//!
//! Nothing is dropped: if the buffer outgrows [`MAX_PENDING`] (stderr slower than the log),
//! the thread that crosses the limit writes the batch itself, which is the back-pressure a
//! plain stderr writer would apply. Lines reach stderr at most [`INTERVAL`] late, and
//! [`LogGuard`] writes what is pending when the program ends.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;

/// How often the background thread writes the pending lines.
pub const INTERVAL: Duration = Duration::from_millis(20);
/// Pending bytes above which the logging thread writes the batch itself.
pub const MAX_PENDING: usize = 1 << 20;

/// Where batches go: stderr, or a test's capture.
type Sink = fn(&[u8]);

#[derive(Debug)]
struct Shared {
    pending: Mutex<Pending>,
    /// Held from taking a batch until it is written, so batches reach the sink in the order
    /// their lines were logged, whichever thread writes them.
    output: Mutex<()>,
    /// Signalled by [`LogGuard`] to make the writer thread finish.
    stop: Condvar,
    sink: Sink,
}

#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    stopping: bool,
}

impl Shared {
    fn new(sink: Sink) -> Self {
        Self {
            pending: Mutex::default(),
            output: Mutex::new(()),
            stop: Condvar::new(),
            sink,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding the lock leaves at worst a partial line: keep logging.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes out what is pending. The buffer's lock is released before the write, so loggers
    /// do not wait for stderr (unless they are over the limit and writing themselves).
    fn write_out(&self) {
        let _order = self.output.lock().unwrap_or_else(|p| p.into_inner());
        let batch = std::mem::take(&mut self.lock().bytes);
        if !batch.is_empty() {
            (self.sink)(&batch);
        }
    }
}

fn write_stderr(batch: &[u8]) {
    // Nowhere to report a failing stderr; the lines are lost either way.
    let _ = std::io::stderr().lock().write_all(batch);
}

/// A `MakeWriter` for `tracing_subscriber::fmt`; cheap to clone.
#[derive(Debug, Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Keep alive for as long as the program logs; dropping it stops the writer thread after it
/// has written every pending line.
#[derive(Debug)]
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    inner: Option<(Arc<Shared>, std::thread::JoinHandle<()>)>,
}

impl LogGuard {
    /// For subscribers that write directly and need no flushing.
    pub fn none() -> Self {
        Self { inner: None }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some((shared, thread)) = self.inner.take() {
            shared.lock().stopping = true;
            shared.stop.notify_one();
            let _ = thread.join();
        }
    }
}

impl BatchWriter {
    /// Starts the writer thread. If the thread cannot be started, lines are written directly.
    pub fn start() -> (Self, LogGuard) {
        Self::start_with(write_stderr)
    }

    fn start_with(sink: Sink) -> (Self, LogGuard) {
        let shared = Arc::new(Shared::new(sink));
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || run(&worker));
        let guard = match thread {
            Ok(t) => LogGuard {
                inner: Some((Arc::clone(&shared), t)),
            },
            Err(_) => {
                // No thread: every line crosses the limit and is written at once.
                shared.lock().stopping = true;
                LogGuard::none()
            }
        };
        (Self { shared }, guard)
    }

    fn append(&self, line: &[u8]) {
        let mut pending = self.shared.lock();
        pending.bytes.extend_from_slice(line);
        if pending.stopping || pending.bytes.len() > MAX_PENDING {
            drop(pending);
            self.shared.write_out();
        }
    }
}

fn run(shared: &Shared) {
    loop {
        let pending = shared.lock();
        let (pending, _) = shared
            .stop
            .wait_timeout_while(pending, INTERVAL, |p| !p.stopping)
            .unwrap_or_else(|p| p.into_inner());
        let stopping = pending.stopping;
        drop(pending);
        shared.write_out();
        if stopping {
            return;
        }
    }
}

/// One formatted event; `tracing_subscriber` writes each event with a single `write_all`, so
/// lines are never interleaved.
#[derive(Debug)]
pub struct LineWriter<'a> {
    to: &'a BatchWriter,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.to.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { to: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("{{\"line\":{i}}}\n").into_bytes())
            .collect()
    }

    static AT_EXIT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    fn capture_at_exit(b: &[u8]) {
        AT_EXIT.lock().expect("lock").extend_from_slice(b);
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_guard_is_dropped() {
        let (writer, guard) = BatchWriter::start_with(capture_at_exit);
        let sent = lines(5000);
        for l in &sent {
            writer.make_writer().write_all(l).expect("write");
        }
        drop(guard);
        assert_eq!(*AT_EXIT.lock().expect("lock"), sent.concat());
        // After the guard, a late line is written at once rather than lost.
        writer.make_writer().write_all(b"late\n").expect("write");
        assert!(AT_EXIT.lock().expect("lock").ends_with(b"late\n"));
    }

    static ON_TIMER: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    fn capture_on_timer(b: &[u8]) {
        ON_TIMER.lock().expect("lock").extend_from_slice(b);
    }

    #[test]
    fn lines_are_written_without_waiting_for_the_guard() {
        let (writer, _guard) = BatchWriter::start_with(capture_on_timer);
        writer.make_writer().write_all(b"one\n").expect("write");
        for _ in 0..200 {
            if *ON_TIMER.lock().expect("lock") == b"one\n" {
                return;
            }
            std::thread::sleep(INTERVAL / 4);
        }
        panic!("the line was not written within 200 polls");
    }

    static OVER_LIMIT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    fn capture_over_limit(b: &[u8]) {
        OVER_LIMIT.lock().expect("lock").extend_from_slice(b);
    }

    #[test]
    fn past_the_limit_the_logging_thread_writes_the_batch_itself() {
        // No writer thread at all: only the limit can make lines reach the sink.
        let writer = BatchWriter {
            shared: Arc::new(Shared::new(capture_over_limit)),
        };
        let line = vec![b'x'; 1000];
        writer.make_writer().write_all(&line).expect("write");
        assert!(
            OVER_LIMIT.lock().expect("lock").is_empty(),
            "under the limit: kept"
        );
        for _ in 0..(MAX_PENDING / 1000) {
            writer.make_writer().write_all(&line).expect("write");
        }
        let written = OVER_LIMIT.lock().expect("lock").len();
        assert!(written > MAX_PENDING, "only {written} bytes written");
        assert_eq!(
            written + writer.shared.lock().bytes.len(),
            line.len() * (MAX_PENDING / 1000 + 1)
        );
    }
}
