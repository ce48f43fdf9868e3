//! An incremental, synchronous Server-Sent Events parser, following the WHATWG "event stream
//! interpretation" rules: `data:` lines joined with `\n`, `event:`, `id:`, `retry:`, `:` comments,
//! CRLF / LF / CR line endings, events split across chunk boundaries and a leading BOM.
//!
//! Feed it bytes as they arrive with [`SseParser::push`]; it returns each event once its blank
//! line has arrived. One deliberate extension: fields the spec would ignore are kept in
//! [`SseEvent::fields`], and an event made only of them is still dispatched. llama.cpp servers
//! of 2025 report mid-stream failures as a non-standard `error: {...}` line; a spec-exact parser
//! would drop it and the failure would look like a normal end.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` type, `message` when the event named none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen so far in the stream (it persists across events, per the spec).
    pub id: String,
    /// A `retry:` reconnection time in milliseconds, when this event carried one.
    pub retry: Option<u64>,
    /// Non-standard fields (name, value) in the order they arrived, e.g. llama.cpp's `error`.
    pub fields: Vec<(String, String)>,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    after_cr: bool,
    first_line: bool,
    started: bool,
    data: String,
    has_data: bool,
    event: String,
    last_id: String,
    retry: Option<u64>,
    fields: Vec<(String, String)>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        SseParser {
            first_line: true,
            ..Default::default()
        }
    }

    /// Feed the next bytes of the stream; complete events are appended to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) {
        self.started = true;
        let mut rest = bytes;
        // A CRLF split across chunks: the LF belongs to the CR already handled.
        if self.after_cr {
            self.after_cr = false;
            if let [b'\n', tail @ ..] = rest {
                rest = tail;
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..pos]);
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
            if rest[pos] == b'\r' {
                match rest.get(pos + 1) {
                    Some(b'\n') => rest = &rest[pos + 2..],
                    Some(_) => rest = &rest[pos + 1..],
                    None => {
                        self.after_cr = true;
                        rest = &[];
                    }
                }
            } else {
                rest = &rest[pos + 1..];
            }
        }
        self.line.extend_from_slice(rest);
    }

    /// Whether the stream ended in the middle of an event. The spec discards such an event;
    /// callers use this to tell a clean end from a cut one.
    pub fn has_partial_event(&self) -> bool {
        !self.line.is_empty() || self.has_data || !self.fields.is_empty() || !self.event.is_empty()
    }

    fn process_line(&mut self, raw: &[u8], out: &mut Vec<SseEvent>) {
        let decoded = String::from_utf8_lossy(raw);
        let mut line: &str = &decoded;
        if self.first_line {
            self.first_line = false;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return; // A comment (often a keep-alive).
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match name {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = value.to_string(),
            "id" => {}
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            "retry" => {}
            other => self.fields.push((other.to_string(), value.to_string())),
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        let retry = self.retry.take();
        if !self.has_data && self.fields.is_empty() {
            return;
        }
        self.has_data = false;
        out.push(SseEvent {
            event: if event.is_empty() {
                "message".to_string()
            } else {
                event
            },
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
            retry,
            fields: std::mem::take(&mut self.fields),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut out);
        }
        out
    }

    fn parse(text: &str) -> Vec<SseEvent> {
        parse_chunks(&[text.as_bytes()])
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn data_lines_join_with_newline() {
        let events = parse("data: first\ndata: second\n\n");
        assert_eq!(data(&events), ["first\nsecond"]);
        assert_eq!(events[0].event, "message");
    }

    #[test]
    fn only_one_leading_space_is_stripped() {
        assert_eq!(data(&parse("data:no space\n\n")), ["no space"]);
        assert_eq!(data(&parse("data:  two\n\n")), [" two"]);
        assert_eq!(data(&parse("data\n\n")), [""]);
    }

    #[test]
    fn empty_data_line_still_dispatches_an_empty_event() {
        // `data:` alone yields one event with empty data; a blank line alone yields none.
        assert_eq!(data(&parse("data:\n\n\n\n")), [""]);
        assert!(parse("\n\n\n").is_empty());
    }

    #[test]
    fn event_and_id_fields() {
        let events = parse("event: ping\nid: 7\ndata: x\n\ndata: y\n\n");
        assert_eq!(events[0].event, "ping");
        assert_eq!(events[0].id, "7");
        // The type resets; the id persists.
        assert_eq!(events[1].event, "message");
        assert_eq!(events[1].id, "7");
    }

    #[test]
    fn id_with_nul_is_ignored() {
        let events = parse("id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n");
        assert_eq!(events[1].id, "1");
    }

    #[test]
    fn retry_needs_digits() {
        let events = parse("retry: 1500\ndata: a\n\nretry: soon\ndata: b\n\n");
        assert_eq!(events[0].retry, Some(1500));
        assert_eq!(events[1].retry, None);
    }

    #[test]
    fn comments_are_ignored() {
        let events = parse(": keep-alive\n\n:another\ndata: a\n\n");
        assert_eq!(data(&events), ["a"]);
    }

    #[test]
    fn all_line_endings() {
        assert_eq!(
            data(&parse("data: a\r\n\r\ndata: b\r\rdata: c\n\n")),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn crlf_split_across_chunks() {
        let events = parse_chunks(&[b"data: a\r", b"\n\r", b"\ndata: b\r", b"\r"]);
        assert_eq!(data(&events), ["a", "b"]);
    }

    #[test]
    fn event_split_at_every_byte() {
        let text = "event: delta\ndata: {\"x\":\"héllo\"}\r\n\r\ndata: [DONE]\n\n";
        let chunks: Vec<&[u8]> = text.as_bytes().chunks(1).collect();
        let events = parse_chunks(&chunks);
        assert_eq!(data(&events), ["{\"x\":\"héllo\"}", "[DONE]"]);
        assert_eq!(events[0].event, "delta");
    }

    #[test]
    fn bom_is_stripped_once_even_when_split() {
        let events = parse_chunks(&[b"\xEF", b"\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n"]);
        // Only the stream's first BOM is dropped; the second makes an unknown field name.
        assert_eq!(data(&events), ["a", ""]);
        assert_eq!(events[1].fields[0].0, "\u{feff}data");
    }

    #[test]
    fn unterminated_event_is_not_dispatched() {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        parser.push(b"data: complete\n\ndata: cut", &mut out);
        assert_eq!(data(&out), ["complete"]);
        assert!(parser.has_partial_event());
        parser.push(b"\n", &mut out);
        assert!(parser.has_partial_event());
        parser.push(b"\n", &mut out);
        assert!(!parser.has_partial_event());
        assert_eq!(data(&out), ["complete", "cut"]);
    }

    #[test]
    fn nonstandard_fields_are_kept_and_dispatched() {
        // What llama.cpp sent in 2025 when a request overflowed the context mid-stream.
        let events = parse(
            "error: {\"code\":400,\"message\":\"the request exceeds the available context size\"}\n\ndata: [DONE]\n\n",
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].fields[0].0, "error");
        assert!(events[0].fields[0].1.contains("context size"));
        assert_eq!(events[0].data, "");
        assert_eq!(events[1].data, "[DONE]");
    }

    #[test]
    fn field_without_colon_is_a_name_with_empty_value() {
        let events = parse("data\ndata\n\n");
        assert_eq!(data(&events), ["\n"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let events = parse_chunks(&[b"data: a\xFFb\n\n"]);
        assert_eq!(data(&events), ["a\u{fffd}b"]);
    }

    #[test]
    fn multibyte_char_split_across_chunks() {
        let bytes = "data: 日本\n\n".as_bytes();
        let events = parse_chunks(&[&bytes[..8], &bytes[8..]]);
        assert_eq!(data(&events), ["日本"]);
    }
}
