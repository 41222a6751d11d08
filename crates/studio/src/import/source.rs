//! The CSV files people really have: UTF-8 with or without a BOM, UTF-16
//! with a BOM, Windows-1252; comma, semicolon, tab or pipe; CRLF or LF;
//! quoted fields with newlines. Read as a stream, row by row, each with its
//! line number; a ragged row is that row's error, never a shifted column.

use crate::error::{Error, Result};
use encoding_rs::Encoding;
use std::io::Read;
use std::path::Path;

/// How much of the file is looked at to guess its encoding and delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum EncodingChoice {
    Auto,
    Utf8,
    Windows1252,
    Utf16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum DelimiterChoice {
    Auto,
    Comma,
    Semicolon,
    Tab,
    Pipe,
}

impl DelimiterChoice {
    fn byte(self) -> Option<u8> {
        match self {
            DelimiterChoice::Auto => None,
            DelimiterChoice::Comma => Some(b','),
            DelimiterChoice::Semicolon => Some(b';'),
            DelimiterChoice::Tab => Some(b'\t'),
            DelimiterChoice::Pipe => Some(b'|'),
        }
    }
}

/// What was found (or chosen) for a file, shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub encoding: &'static str,
    pub delimiter: char,
}

/// One data row: its line in the file (1-based, the header is line 1) and
/// its cells as written.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

/// A row that cannot be read as one record.
#[derive(Debug, Clone)]
pub struct BadRow {
    pub line: u64,
    pub cells: Vec<String>,
    pub reason: String,
}

pub struct Source {
    pub detected: Detected,
    pub header: Vec<String>,
    reader: csv::Reader<LineCounter>,
    lines: Lines,
    /// The record each row is read into, its buffers kept between rows.
    record: csv::StringRecord,
}

/// Where the line breaks are in the decoded text, so a record's byte
/// offset gives its true line (the csv reader skips blank lines without
/// counting them). Offsets behind the reader are folded into a count.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<LineState>>);

#[derive(Default)]
struct LineState {
    /// Byte offsets of line breaks not yet folded in, each with whether a
    /// carriage return came just before it.
    breaks: std::collections::VecDeque<(u64, bool)>,
    /// Line breaks before the first offset in `breaks`.
    folded: u64,
    read: u64,
    last_was_cr: bool,
}

impl Lines {
    /// The 1-based line of the byte at `offset`; offsets asked for never
    /// go backwards.
    /// A record's offset may point at blank lines the reader skipped
    /// before it: those are stepped over.
    fn line_at(&self, offset: u64) -> u64 {
        let mut st = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut offset = offset;
        while let Some(&(b, cr)) = st.breaks.front() {
            let blank = b == offset || (cr && b == offset + 1);
            if b < offset || blank {
                st.breaks.pop_front();
                st.folded += 1;
                if blank {
                    offset = b + 1;
                }
            } else {
                break;
            }
        }
        st.folded + 1
    }
}

/// The decoded stream, noting its line breaks as they pass.
struct LineCounter {
    inner: Box<dyn Read + Send>,
    lines: Lines,
}

impl Read for LineCounter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut st = self.lines.0.lock().unwrap_or_else(|e| e.into_inner());
        let start = st.read;
        let read = &buf[..n];
        for i in memchr::memchr_iter(b'\n', read) {
            let cr = match i {
                0 => st.last_was_cr,
                _ => read[i - 1] == b'\r',
            };
            st.breaks.push_back((start + i as u64, cr));
        }
        if let Some(last) = read.last() {
            st.last_was_cr = *last == b'\r';
        }
        st.read += n as u64;
        Ok(n)
    }
}

fn file_error(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{}: {why}", path.display()))
}

/// The encoding a sample's bytes say: a BOM first, else valid UTF-8, else
/// Windows-1252 (which decodes any byte, as Excel's "CSV" does).
fn sniff_encoding(sample: &[u8], whole_file: bool) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(sample) {
        return enc;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => encoding_rs::UTF_8,
        // A multi-byte character cut at the sample's end is still UTF-8.
        Err(e) if !whole_file && e.error_len().is_none() => encoding_rs::UTF_8,
        Err(_) => encoding_rs::WINDOWS_1252,
    }
}

/// The delimiter of the header line: the candidate seen most often outside
/// quotes (comma when none is).
fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map(|(d, _)| *d)
        .unwrap_or(b',')
}

impl Source {
    pub fn open(
        path: &Path,
        encoding: EncodingChoice,
        delimiter: DelimiterChoice,
    ) -> Result<Source> {
        let mut file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
        let mut sample = Vec::with_capacity(SNIFF_BYTES);
        (&mut file)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(|e| file_error(path, e))?;
        let whole_file = sample.len() < SNIFF_BYTES;
        if sample.iter().all(u8::is_ascii_whitespace) {
            return Err(file_error(
                path,
                "the file is empty; it needs a header row of field names and rows of data",
            ));
        }
        let enc = match encoding {
            EncodingChoice::Auto => sniff_encoding(&sample, whole_file),
            EncodingChoice::Utf8 => encoding_rs::UTF_8,
            EncodingChoice::Windows1252 => encoding_rs::WINDOWS_1252,
            EncodingChoice::Utf16 => Encoding::for_bom(&sample)
                .map(|(e, _)| e)
                .filter(|e| *e == encoding_rs::UTF_16LE || *e == encoding_rs::UTF_16BE)
                .unwrap_or(encoding_rs::UTF_16LE),
        };
        if enc == encoding_rs::UTF_8 && encoding == EncodingChoice::Auto && sample.contains(&0) {
            return Err(file_error(
                path,
                "this is not a text file (it holds NUL bytes); save it as CSV",
            ));
        }
        let (decoded_sample, _, _) = enc.decode(&sample);
        let delim = delimiter
            .byte()
            .unwrap_or_else(|| sniff_delimiter(&decoded_sample));
        drop(file);
        let file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(enc))
            .bom_override(true)
            .build(file);
        let lines = Lines::default();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delim)
            .flexible(true)
            .has_headers(false)
            .from_reader(LineCounter {
                inner: Box::new(decoded),
                lines: lines.clone(),
            });
        let mut first = csv::StringRecord::new();
        let has_header = reader
            .read_record(&mut first)
            .map_err(|e| file_error(path, format!("cannot read the header: {e}")))?;
        if !has_header {
            return Err(file_error(path, "the file is empty"));
        }
        let header: Vec<String> = first.iter().map(|h| h.trim().to_string()).collect();
        if let Some(blank) = header.iter().position(String::is_empty) {
            return Err(file_error(
                path,
                format!("column {} of the header has no name", blank + 1),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for h in &header {
            if !seen.insert(h.to_ascii_lowercase()) {
                return Err(file_error(path, format!("the header names {h:?} twice")));
            }
        }
        Ok(Source {
            detected: Detected {
                encoding: enc.name(),
                delimiter: delim as char,
            },
            header,
            reader,
            lines,
            record: csv::StringRecord::new(),
        })
    }

    /// Counts the rows left without reading them as text (the progress
    /// bar's total): blank lines are not rows, a bad row is.
    pub fn count_rows(self) -> u64 {
        self.count_rows_up_to(u64::MAX)
    }

    /// Counts the rows left, stopping once there are `limit`.
    pub fn count_rows_up_to(mut self, limit: u64) -> u64 {
        let mut record = csv::ByteRecord::new();
        let mut n = 0;
        while n < limit
            && let Ok(true) = self.reader.read_byte_record(&mut record)
        {
            if !(record.len() == 1 && record[0].trim_ascii().is_empty()) {
                n += 1;
            }
        }
        n
    }

    /// The next row, or None at the end. A row with another number of
    /// cells than the header, or one that cannot be read, is a `BadRow`.
    pub fn next_row(&mut self) -> Option<std::result::Result<Row, BadRow>> {
        let record = &mut self.record;
        loop {
            let line = self.lines.line_at(self.reader.position().byte());
            match self.reader.read_record(record) {
                Ok(false) => return None,
                Err(e) => {
                    return Some(Err(BadRow {
                        line,
                        cells: vec![],
                        reason: format!("line {line} cannot be read: {e}"),
                    }));
                }
                Ok(true) => {
                    let line = record
                        .position()
                        .map(|p| self.lines.line_at(p.byte()))
                        .unwrap_or(line);
                    let cells: Vec<String> = record.iter().map(str::to_string).collect();
                    // A blank line between rows is not a row.
                    if cells.len() == 1 && cells[0].trim().is_empty() {
                        continue;
                    }
                    if cells.len() != self.header.len() {
                        return Some(Err(BadRow {
                            line,
                            reason: format!(
                                "line {line} has {} cells but the header has {} columns (a stray delimiter or quote?)",
                                cells.len(),
                                self.header.len()
                            ),
                            cells,
                        }));
                    }
                    return Some(Ok(Row { line, cells }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("studio-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn rows(p: &Path) -> (Source, Vec<std::result::Result<Row, BadRow>>) {
        let mut s = Source::open(p, EncodingChoice::Auto, DelimiterChoice::Auto).unwrap();
        let mut out = vec![];
        while let Some(r) = s.next_row() {
            out.push(r);
        }
        let counted = Source::open(p, EncodingChoice::Auto, DelimiterChoice::Auto)
            .unwrap()
            .count_rows();
        assert_eq!(counted, out.len() as u64, "the progress total of {p:?}");
        (s, out)
    }

    #[test]
    fn reads_the_files_people_have() {
        let utf8_bom = write(
            "bom.csv",
            b"\xEF\xBB\xBFName;City\r\nM\xC3\xBCller;K\xC3\xB6ln\r\n",
        );
        let (s, r) = rows(&utf8_bom);
        assert_eq!(s.header, ["Name", "City"]);
        assert_eq!(s.detected.delimiter, ';');
        assert_eq!(r[0].as_ref().unwrap().cells, ["Müller", "Köln"]);

        let latin = write("latin.csv", b"Name\tCity\nM\xFCller\tK\xF6ln\n");
        let (s, r) = rows(&latin);
        assert_eq!(s.detected.encoding, "windows-1252");
        assert_eq!(s.detected.delimiter, '\t');
        assert_eq!(r[0].as_ref().unwrap().cells, ["Müller", "Köln"]);

        let mut utf16 = vec![0xFF, 0xFE];
        for u in "Name|Notes\n\"A\"|\"two\nlines, \"\"quoted\"\"\"\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let (s, r) = rows(&write("utf16.csv", &utf16));
        assert_eq!(s.detected.encoding, "UTF-16LE");
        assert_eq!(
            r[0].as_ref().unwrap().cells,
            ["A", "two\nlines, \"quoted\""]
        );

        let ragged = write("ragged.csv", b"A,B\n1,2\n3,4,5\n\n6,7\n");
        let (_, r) = rows(&ragged);
        assert_eq!(r.len(), 3);
        let bad = r[1].as_ref().unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(bad.reason.contains("3 cells"), "{}", bad.reason);
        assert_eq!(r[2].as_ref().unwrap().line, 5);

        let crlf = write("crlf.csv", b"A,B\r\n1,\"x\r\ny\"\r\n\r\n\r\n2,3\r\n");
        let (_, r) = rows(&crlf);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].as_ref().unwrap().line, 2);
        assert_eq!(
            r[1].as_ref().unwrap().line,
            6,
            "blank lines and a multi-line cell counted"
        );

        let big = format!("A,B\n\"{}\",x\n", "y".repeat(1 << 20));
        let (_, r) = rows(&write("big.csv", big.as_bytes()));
        assert_eq!(r[0].as_ref().unwrap().cells[0].len(), 1 << 20);
    }

    #[test]
    fn file_level_problems_are_clear() {
        for (name, bytes, want) in [
            ("empty.csv", &b""[..], "empty"),
            ("blank.csv", b"\n\n  \n", "empty"),
            ("dup.csv", b"Name,name\nx,y\n", "twice"),
            ("noname.csv", b"Name,,City\n", "no name"),
            ("binary.csv", b"PK\x03\x04\x00\x00binary", "not a text file"),
        ] {
            let err = Source::open(
                &write(name, bytes),
                EncodingChoice::Auto,
                DelimiterChoice::Auto,
            )
            .err()
            .unwrap_or_else(|| panic!("{name} opened"));
            assert!(err.to_string().contains(want), "{name}: {err}");
        }
    }

    proptest::proptest! {
        /// Whatever bytes a file holds, reading it answers rows, row
        /// errors or one file error; it never panics.
        #[test]
        fn any_bytes_read_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
                                        text in "[a-z,;|\t\"\r\n ]{0,300}") {
            for (i, data) in [bytes, text.into_bytes()].into_iter().enumerate() {
                let p = write(&format!("prop-{}-{i}.csv", std::process::id()), &data);
                if let Ok(mut s) = Source::open(&p, EncodingChoice::Auto, DelimiterChoice::Auto) {
                    let mut n = 0;
                    while let Some(r) = s.next_row() {
                        n += 1;
                        if let Ok(row) = r {
                            proptest::prop_assert_eq!(row.cells.len(), s.header.len());
                        }
                        proptest::prop_assert!(n < 10_000);
                    }
                }
            }
        }
    }
}
