//! The JSON line of one event, written straight into the line buffer.
//!
//! Same shape as `tracing_subscriber`'s JSON format (`timestamp`, `level`, `fields`, `target`,
//! `span` with the current span's fields and `name`), so log shippers and the tests see no
//! difference. Written by hand because that format serialized every field through an
//! `io::Write` adaptor that re-checked UTF-8 on each piece, and re-parsed the span's stored
//! JSON into a value tree on every event just to print it again: together about half the cost
//! of the access line that every request logs (docs/benchmarks.md). Here the span's stored
//! fields (already a JSON object, from `JsonFields`) are copied in as they are.

use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLine;

impl<S> FormatEvent<S, JsonFields> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events from the `log` crate arrive with target `log` and their real target, module
        // and location as `log.*` fields; show them as the native events they stand for.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        out.write_str("{\"timestamp\":\"")?;
        write_timestamp(&mut out, std::time::SystemTime::now())?;
        write!(out, "\",\"level\":\"{}\",\"fields\":{{", meta.level())?;
        let mut fields = FieldsVisitor {
            out: &mut out,
            first: true,
            skip_log_fields: normalized.is_some(),
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        out.write_str("},\"target\":")?;
        write_json_str(&mut out, meta.target())?;
        let span = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        if let Some(span) = span {
            out.write_str(",\"span\":{")?;
            let ext = span.extensions();
            if let Some(stored) = ext.get::<FormattedFields<JsonFields>>() {
                // `{"a":1}` -> `"a":1,`; an empty object or nothing adds nothing.
                let inner = stored
                    .fields
                    .trim()
                    .trim_start_matches('{')
                    .trim_end_matches('}');
                if !inner.trim().is_empty() {
                    out.write_str(inner)?;
                    out.write_char(',')?;
                }
            }
            out.write_str("\"name\":")?;
            write_json_str(&mut out, span.name())?;
            out.write_char('}')?;
        }
        out.write_str("}\n")
    }
}

struct FieldsVisitor<'a, 'w> {
    out: &'a mut Writer<'w>,
    first: bool,
    skip_log_fields: bool,
    result: fmt::Result,
}

impl FieldsVisitor<'_, '_> {
    fn key(&mut self, field: &Field) -> fmt::Result {
        if !self.first {
            self.out.write_char(',')?;
        }
        self.first = false;
        let name = field.name();
        // Field names are identifiers: written as they are unless one needs escaping.
        if name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.out.write_char('"')?;
            self.out.write_str(name)?;
            self.out.write_str("\":")
        } else {
            write_json_str(self.out, name)?;
            self.out.write_char(':')
        }
    }

    fn entry(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.skip_log_fields && field.name().starts_with("log.") {
            return;
        }
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| value(self.out));
        }
    }
}

impl Visit for FieldsVisitor<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, |out| write_json_str(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, |out| {
            if value < 0 {
                out.write_char('-')?;
            }
            write_decimal(out, value.unsigned_abs())
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, |out| write_decimal(out, value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinities; `Display` of a finite f64 is valid JSON.
        self.entry(field, |out| {
            if value.is_finite() {
                write!(out, "{value}")
            } else {
                out.write_str("null")
            }
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%x` fields arrive here too, wrapped so that `Debug` prints their `Display`.
        self.entry(field, |out| {
            out.write_char('"')?;
            write!(Escaped(&mut *out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

/// What `Display` writes for `value`, without the formatting machinery (a status code is in
/// every access line).
fn write_decimal(out: &mut impl fmt::Write, mut value: u64) -> fmt::Result {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.write_str(std::str::from_utf8(&digits[start..]).map_err(|_| fmt::Error)?)
}

fn write_json_str(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(&mut *out).write_str(s)?;
    out.write_char('"')
}

/// Escapes what it is given for the inside of a JSON string.
struct Escaped<W>(W);

impl<W: fmt::Write> fmt::Write for Escaped<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut clean_from = 0;
        for (i, b) in s.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&s[clean_from..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{b:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            clean_from = i + 1;
        }
        self.0.write_str(&s[clean_from..])
    }
}

/// RFC 3339 in UTC with microseconds, e.g. `2026-11-28T22:45:54.463037Z`.
fn write_timestamp(out: &mut impl fmt::Write, now: std::time::SystemTime) -> fmt::Result {
    let since = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, UNIX_EPOCH};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The events every test below logs: an access line inside a request span, and an error
    /// outside any span with characters that need escaping.
    fn log_events() {
        let id = uuid::Uuid::nil();
        let span = tracing::info_span!("request", request_id = %id);
        let _entered = span.enter();
        tracing::info!(
            request_id = Some(tracing::field::display(id)),
            method = "GET",
            route = "/v1/orgs/{org_id}",
            status = 200u16,
            latency_ms = 0.25,
            negative = -3i64,
            ok = true,
            reason = None::<&str>,
            "request"
        );
        drop(_entered);
        tracing::error!(error = ?"a \"quoted\"\nmultiline cause", "request failed");
    }

    fn lines(capture: &Capture) -> Vec<serde_json::Value> {
        let bytes = capture.0.lock().expect("lock").clone();
        String::from_utf8(bytes)
            .expect("utf8")
            .lines()
            .map(|l| {
                let mut v: serde_json::Value =
                    serde_json::from_str(l).expect("one JSON object per line");
                v.as_object_mut().expect("object").remove("timestamp");
                v
            })
            .collect()
    }

    #[test]
    fn lines_match_tracing_subscribers_own_json_format() {
        let ours = Capture::default();
        let theirs = Capture::default();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(JsonLine)
                    .with_writer({
                        let c = ours.clone();
                        move || c.clone()
                    }),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer({
                        let c = theirs.clone();
                        move || c.clone()
                    }),
            );
        tracing::subscriber::with_default(subscriber, log_events);
        let (ours, theirs) = (lines(&ours), lines(&theirs));
        assert_eq!(ours.len(), 2);
        assert_eq!(ours, theirs);
        assert_eq!(ours[0]["span"]["request_id"], uuid::Uuid::nil().to_string());
        // `?value` logs the value's `Debug` form, quotes and escapes included.
        assert_eq!(
            ours[1]["fields"]["error"],
            format!("{:?}", "a \"quoted\"\nmultiline cause")
        );
    }

    fn timestamp(secs: u64, micros: u32) -> String {
        let mut s = String::new();
        let t = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into());
        write_timestamp(&mut s, t).expect("write");
        s
    }

    #[test]
    fn timestamps_agree_with_chrono() {
        // Leap days, century and 400-year rules, the epoch, and far ahead.
        for secs in [
            0u64,
            951_782_400,   // 2000-02-29
            4_107_542_400, // 2100-03-01
            1_795_909_554,
            253_402_300_799, // 9999-12-31T23:59:59
        ] {
            let expected = chrono::DateTime::from_timestamp(secs as i64, 123_456_000)
                .expect("in range")
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string();
            assert_eq!(timestamp(secs, 123_456), expected);
        }
    }

    #[test]
    fn decimals_are_written_as_display_writes_them() {
        for v in [0u64, 7, 10, 200, 65_535, 1_000_000_007, u64::MAX] {
            let mut s = String::new();
            write_decimal(&mut s, v).expect("write");
            assert_eq!(s, v.to_string());
        }
    }

    #[test]
    fn strings_are_escaped_as_json() {
        let nasty = "quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} é 🦀";
        let mut s = String::new();
        write_json_str(&mut s, nasty).expect("write");
        assert_eq!(
            serde_json::from_str::<String>(&s).expect("valid JSON string"),
            nasty
        );
        assert!(!s.contains('\n'), "one line: {s}");
    }
}
