//! How many pages a spooled print job prints, read by the agent (as root) from the job's
//! own files in the print spool (the documents, `dNNNNN-NNN`) and the copies the job asks,
//! as the scheduler keeps them. Nothing the visitor typed into a dialog is trusted for the
//! count, and nothing else is read: not the title, not the text.
//!
//! Only PDF is counted: it is what the desktop's print dialogs (GTK, Qt, LibreOffice,
//! Firefox, Chromium) send to CUPS. The count is the larger of two readings of the page
//! tree, so that a hand-made file cannot lower it: the page objects (`/Type /Page`, names
//! with `#xx` escapes decoded) and the leaves of the `/Kids` arrays (the references they
//! hold, less the inner `/Pages` nodes), which also counts pages that omit their `/Type`
//! (printing filters accept those). Compressed object streams (`/Type /ObjStm`, PDF 1.5
//! and later, where page objects may be) are inflated, at most [`MAX_INFLATED_BYTES`] in
//! all, and read the same way. A file that cannot be read this way (another format, an
//! object stream with another filter or that does not inflate, bigger than
//! [`MAX_DOCUMENT_BYTES`]) has no count: its job waits for staff.

/// The largest document counted (a bigger one waits for staff).
pub const MAX_DOCUMENT_BYTES: u64 = 32 << 20;

/// The most bytes a document's object streams may inflate to, all together (a "zip bomb"
/// has no count).
pub const MAX_INFLATED_BYTES: usize = 64 << 20;

/// The most copies counted for one job (CUPS's own default limit is 9999).
pub const MAX_COPIES: u32 = 9_999;

/// Pages of a PDF document; `None` when it is not a PDF, or one whose pages could hide
/// from this reading.
pub fn pdf_pages(bytes: &[u8]) -> Option<u32> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return None;
    }
    let mut scan = Scan {
        inflate_budget: MAX_INFLATED_BYTES,
        ..Scan::default()
    };
    scan.run(bytes, true);
    if scan.unreadable {
        return None;
    }
    let leaves = scan
        .kids_refs
        .saturating_sub(scan.pages_nodes.saturating_sub(1));
    let pages = scan.page_objects.max(leaves);
    if pages == 0 {
        return None;
    }
    Some(u32::try_from(pages).unwrap_or(u32::MAX))
}

/// Copies asked for a job, from an IPP message about it (the scheduler's answer to
/// Get-Job-Attributes, or a control file): the `copies` attribute, 1 when absent, at most
/// [`MAX_COPIES`]; `None` when the bytes are not an IPP message. Other attributes are
/// skipped without being kept.
pub fn ipp_copies(bytes: &[u8]) -> Option<u32> {
    // version (2), operation or status (2), request id (4)
    let mut at = 8usize;
    if bytes.len() < at {
        return None;
    }
    let mut copies = 1u32;
    loop {
        let tag = *bytes.get(at)?;
        at += 1;
        if tag == 0x03 {
            return Some(copies.clamp(1, MAX_COPIES));
        }
        if tag < 0x10 {
            continue; // a group delimiter
        }
        let name_len = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        at += 2;
        let name = bytes.get(at..at + name_len)?;
        at += name_len;
        let value_len = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        at += 2;
        let value = bytes.get(at..at + value_len)?;
        at += value_len;
        if name == b"copies" && tag == 0x21 && value.len() == 4 {
            let n = i32::from_be_bytes([value[0], value[1], value[2], value[3]]);
            copies = u32::try_from(n).unwrap_or(1).max(1);
        }
    }
}

/// Pages of a job: every document's pages times the copies, at most `u32::MAX`; `None`
/// when one document has no count.
pub fn job_pages(documents: &[Option<u32>], copies: u32) -> Option<u32> {
    let mut total = 0u32;
    for pages in documents {
        total = total.saturating_add((*pages)?);
    }
    if documents.is_empty() {
        return None;
    }
    Some(total.saturating_mul(copies.max(1)))
}

#[derive(Default)]
struct Scan {
    page_objects: u64,
    pages_nodes: u64,
    kids_refs: u64,
    /// An object stream that could not be read: its pages are unknown.
    unreadable: bool,
    /// Bytes object streams may still inflate to.
    inflate_budget: usize,
}

/// What the dictionary before a `stream` said.
#[derive(Default)]
struct StreamDict {
    object_stream: bool,
    flate: bool,
    other_filter: bool,
}

#[derive(PartialEq)]
enum Token {
    Name(Vec<u8>),
    ArrayOpen,
    ArrayClose,
    Keyword(Vec<u8>),
    Other,
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

impl Scan {
    /// Reads `bytes`; `top`: the file itself (object streams are read from there only).
    fn run(&mut self, bytes: &[u8], top: bool) {
        let mut at = 0usize;
        let mut previous: Option<Token> = None;
        let mut dict = StreamDict::default();
        // Inside a `/Kids [` array: references are counted by their `R`.
        let mut in_kids = false;
        // Inside a `/Filter [` array.
        let mut in_filter = false;
        while at < bytes.len() {
            let b = bytes[at];
            if is_white(b) {
                at += 1;
                continue;
            }
            let token = match b {
                b'%' => {
                    while at < bytes.len() && !matches!(bytes[at], b'\r' | b'\n') {
                        at += 1;
                    }
                    continue;
                }
                b'/' => {
                    at += 1;
                    let mut name = Vec::new();
                    while at < bytes.len() && !is_white(bytes[at]) && !is_delimiter(bytes[at]) {
                        let c = bytes[at];
                        if c == b'#' && at + 2 < bytes.len() {
                            if let (Some(h), Some(l)) = (hex(bytes[at + 1]), hex(bytes[at + 2])) {
                                if name.len() < 32 {
                                    name.push(h * 16 + l);
                                }
                                at += 3;
                                continue;
                            }
                        }
                        if name.len() < 32 {
                            name.push(c);
                        }
                        at += 1;
                    }
                    Token::Name(name)
                }
                b'(' => {
                    // A literal string: balanced parentheses, backslash escapes.
                    let mut depth = 0usize;
                    while at < bytes.len() {
                        match bytes[at] {
                            b'\\' => at += 1,
                            b'(' => depth += 1,
                            b')' => {
                                depth -= 1;
                                if depth == 0 {
                                    at += 1;
                                    break;
                                }
                            }
                            _ => {}
                        }
                        at += 1;
                    }
                    Token::Other
                }
                b'<' if bytes.get(at + 1) == Some(&b'<') => {
                    at += 2;
                    Token::Other
                }
                b'>' if bytes.get(at + 1) == Some(&b'>') => {
                    at += 2;
                    Token::Other
                }
                b'<' => {
                    while at < bytes.len() && bytes[at] != b'>' {
                        at += 1;
                    }
                    at += 1;
                    Token::Other
                }
                b'[' => {
                    at += 1;
                    Token::ArrayOpen
                }
                b']' => {
                    at += 1;
                    Token::ArrayClose
                }
                _ if is_delimiter(b) => {
                    at += 1;
                    Token::Other
                }
                _ => {
                    let start = at;
                    while at < bytes.len() && !is_white(bytes[at]) && !is_delimiter(bytes[at]) {
                        at += 1;
                    }
                    let word = &bytes[start..at];
                    if word == b"stream" {
                        // Skip the stream's bytes: they are compressed data or drawing
                        // operators, not objects; an object stream's objects are read.
                        let end = find(&bytes[at..], b"endstream")
                            .map(|e| at + e)
                            .unwrap_or(bytes.len());
                        if dict.object_stream {
                            self.object_stream(&bytes[at..end], &dict, top);
                        }
                        dict = StreamDict::default();
                        at = (end + b"endstream".len()).min(bytes.len());
                        Token::Other
                    } else if word == b"obj" {
                        dict = StreamDict::default();
                        Token::Keyword(word.to_vec())
                    } else if word.first().is_some_and(|c| c.is_ascii_alphabetic()) {
                        Token::Keyword(word.to_vec())
                    } else {
                        Token::Other
                    }
                }
            };
            match &token {
                Token::Name(name) => {
                    if let Some(Token::Name(key)) = &previous {
                        if key == b"Type" {
                            match name.as_slice() {
                                b"Page" => self.page_objects += 1,
                                b"Pages" => self.pages_nodes += 1,
                                b"ObjStm" => dict.object_stream = true,
                                _ => {}
                            }
                        }
                    }
                    // `/Filter /FlateDecode` or `/Filter [/FlateDecode]`.
                    if in_filter || matches!(&previous, Some(Token::Name(key)) if key == b"Filter")
                    {
                        match name.as_slice() {
                            b"FlateDecode" | b"Fl" => dict.flate = true,
                            _ => dict.other_filter = true,
                        }
                    }
                }
                Token::ArrayOpen => {
                    in_kids = matches!(&previous, Some(Token::Name(key)) if key == b"Kids");
                    in_filter = matches!(&previous, Some(Token::Name(key)) if key == b"Filter");
                }
                Token::ArrayClose => {
                    in_kids = false;
                    in_filter = false;
                }
                Token::Keyword(word) if in_kids && word == b"R" => self.kids_refs += 1,
                _ => {}
            }
            // `/Type /Page` must be adjacent; anything else between breaks the pair.
            previous = match (&previous, token) {
                (Some(Token::Name(key)), Token::Name(_)) if key == b"Type" => None,
                (_, token) => Some(token),
            };
        }
    }
}

impl Scan {
    /// An object stream's data (after `stream`, up to `endstream`): inflated and read, or
    /// the document has no count.
    fn object_stream(&mut self, data: &[u8], dict: &StreamDict, top: bool) {
        // The data starts after the end of line that follows `stream`.
        let data = data
            .strip_prefix(b"\r\n")
            .or_else(|| data.strip_prefix(b"\n"))
            .unwrap_or(data);
        if !top || dict.other_filter {
            self.unreadable = true;
            return;
        }
        if !dict.flate {
            // An uncompressed object stream (allowed, rare).
            self.run(data, false);
            return;
        }
        // Any failure (a cut or corrupt stream, past the budget) leaves the document
        // uncounted: part of an object stream could hide pages.
        match miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, self.inflate_budget) {
            Ok(objects) => {
                self.inflate_budget -= objects.len();
                self.run(&objects, false);
            }
            Err(_) => self.unreadable = true,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small PDF as a program writes one: a page tree of `pages` pages, each with a
    /// content stream (whose bytes hold words that must not count).
    pub(crate) fn pdf(pages: usize) -> Vec<u8> {
        let mut objects = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            format!(
                "<< /Type /Pages /Kids [{}] /Count {pages} >>",
                (0..pages)
                    .map(|i| format!("{} 0 R", 3 + 2 * i))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ];
        for i in 0..pages {
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R >>",
                4 + 2 * i
            ));
            let text = format!("BT /F1 24 Tf 72 720 Td (Page {i} /Type /Page) Tj ET");
            objects.push(format!(
                "<< /Length {} >>\nstream\n{text}\nendstream",
                text.len()
            ));
        }
        let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        for (i, body) in objects.iter().enumerate() {
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        out.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
        out
    }

    #[test]
    fn a_hand_written_pdf_counts_its_pages_and_not_the_words_in_its_streams() {
        assert_eq!(pdf_pages(&pdf(1)), Some(1));
        assert_eq!(pdf_pages(&pdf(3)), Some(3));
        assert_eq!(pdf_pages(&pdf(40)), Some(40));
    }

    #[test]
    fn pages_hidden_by_escaped_names_or_a_missing_type_are_still_counted() {
        // `/P#61ge` is `/Page`.
        let escaped = String::from_utf8_lossy(&pdf(3))
            .into_owned()
            .replace("/Type /Page /Parent", "/Type /P#61ge /Parent");
        assert_eq!(pdf_pages(escaped.as_bytes()), Some(3));
        // Pages without `/Type` and a tree that claims one page: the kids count.
        let untyped = String::from_utf8_lossy(&pdf(5))
            .into_owned()
            .replace("/Type /Page /Parent", "/Parent")
            .replace("/Count 5", "/Count 1");
        assert_eq!(pdf_pages(untyped.as_bytes()), Some(5));
    }

    #[test]
    fn what_cannot_be_counted_has_no_count() {
        assert_eq!(pdf_pages(b"Hello, printer\n"), None);
        assert_eq!(pdf_pages(b"%!PS-Adobe-3.0\n%%Pages: 1\nshowpage\n"), None);
        assert_eq!(pdf_pages(b"%PDF-1.7\n"), None);
        // An object stream that cannot be read: a filter this reader does not know, or
        // compressed bytes that do not inflate.
        let unknown = String::from_utf8_lossy(&pdf(2))
            .into_owned()
            .replace("/Length", "/Type /ObjStm /Filter /LZWDecode /Length");
        assert_eq!(pdf_pages(unknown.as_bytes()), None);
        let corrupt = String::from_utf8_lossy(&pdf(2))
            .into_owned()
            .replace("/Length", "/Type /ObjStm /Filter /FlateDecode /Length");
        assert_eq!(pdf_pages(corrupt.as_bytes()), None);
    }

    /// A PDF 1.5 whose page objects are all inside one compressed object stream, as
    /// many programs write them: only the catalogue and the stream are in the open.
    fn pdf_with_object_stream(pages: usize, escaped: bool) -> Vec<u8> {
        let page_type = if escaped { "/P#61ge" } else { "/Page" };
        let mut inner = format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >> ",
            (0..pages)
                .map(|i| format!("{} 0 R", 3 + i))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for _ in 0..pages {
            inner.push_str(&format!(
                "<< /Type {page_type} /Parent 2 0 R /MediaBox [0 0 595 842] >> "
            ));
        }
        let packed = miniz_oxide::deflate::compress_to_vec_zlib(inner.as_bytes(), 6);
        let mut out = b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
        out.extend_from_slice(
            format!(
                "{} 0 obj\n<< /Type /ObjStm /N {} /First 0 /Filter /FlateDecode /Length {} >>\nstream\n",
                pages + 3,
                pages + 1,
                packed.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&packed);
        out.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
        out
    }

    #[test]
    fn pages_inside_compressed_object_streams_are_counted() {
        assert_eq!(pdf_pages(&pdf_with_object_stream(1, false)), Some(1));
        assert_eq!(pdf_pages(&pdf_with_object_stream(7, false)), Some(7));
        assert_eq!(pdf_pages(&pdf_with_object_stream(7, true)), Some(7));
        // The compressed bytes cut short: part of the stream could hide pages.
        let whole = pdf_with_object_stream(4, false);
        let start = find(&whole, b"stream\n").unwrap() + 7;
        let end = find(&whole, b"\nendstream").unwrap();
        let mut cut = whole[..start + (end - start) / 2].to_vec();
        cut.extend_from_slice(&whole[end..]);
        assert_eq!(pdf_pages(&cut), None, "a cut stream leaves no count");
        // A stream inflating past the budget (a "zip bomb" of spaces) has no count.
        let bomb =
            miniz_oxide::deflate::compress_to_vec_zlib(&vec![b' '; MAX_INFLATED_BYTES + 1], 9);
        let mut out =
            b"%PDF-1.5\n1 0 obj\n<< /Type /ObjStm /N 1 /First 0 /Filter /FlateDecode >>\nstream\n"
                .to_vec();
        out.extend_from_slice(&bomb);
        out.extend_from_slice(b"\nendstream\nendobj\n2 0 obj\n<< /Type /Page >>\nendobj\n");
        assert!(bomb.len() < 1 << 20);
        assert_eq!(pdf_pages(&out), None);
    }

    /// A control file as CUPS writes one: the job's attributes, title included.
    pub(crate) fn control_file(copies: Option<i32>) -> Vec<u8> {
        let mut out = vec![2, 0, 0, 5, 0, 0, 0, 1, 0x01];
        let mut attr = |tag: u8, name: &str, value: &[u8]| {
            out.push(tag);
            out.extend_from_slice(&(name.len() as u16).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(value.len() as u16).to_be_bytes());
            out.extend_from_slice(value);
        };
        attr(0x47, "attributes-charset", b"utf-8");
        attr(0x42, "job-name", b"releve-bancaire.pdf");
        if let Some(n) = copies {
            attr(0x21, "copies", &n.to_be_bytes());
        }
        out.push(0x02);
        out.push(0x03);
        out
    }

    #[test]
    fn copies_come_from_the_control_file_and_are_bounded() {
        assert_eq!(ipp_copies(&control_file(None)), Some(1));
        assert_eq!(ipp_copies(&control_file(Some(3))), Some(3));
        assert_eq!(ipp_copies(&control_file(Some(-4))), Some(1));
        assert_eq!(ipp_copies(&control_file(Some(1_000_000))), Some(MAX_COPIES));
        let mut cut = control_file(Some(3));
        cut.truncate(20);
        assert_eq!(ipp_copies(&cut), None);
    }

    #[test]
    fn a_job_counts_every_document_times_the_copies_without_overflow() {
        assert_eq!(job_pages(&[Some(3), Some(2)], 2), Some(10));
        assert_eq!(job_pages(&[Some(3), None], 2), None);
        assert_eq!(job_pages(&[], 1), None);
        assert_eq!(job_pages(&[Some(u32::MAX)], MAX_COPIES), Some(u32::MAX));
    }
}
