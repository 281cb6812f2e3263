//! The one CSV writer of every export. Exports carry strings a seat supplies (host name,
//! asset tag, permanence id) and staff open them in a spreadsheet, so a cell must neither
//! forge rows nor run as a formula:
//! - a text cell is quoted (always for the spreadsheet exports; when it needs it for the
//!   national schema's file, which machines read), with its quotes doubled;
//! - a text cell starting with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed
//!   gets a leading `'` (OWASP's advice against CSV injection): the spreadsheet shows it as
//!   text;
//! - line breaks inside a cell become spaces: quoted they would be valid CSV, but tools
//!   that read line by line (grep, a quick script) would still see a forged row;
//! - a number is written as is, and only if it is one (digits, a sign, one decimal point or
//!   comma); anything else is written as text.

use std::fmt::Display;

/// How text cells are quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// Every text cell.
    Always,
    /// Only cells holding the separator, a quote, or a leading or trailing space.
    WhenNeeded,
}

/// A CSV document being written, row by row.
#[derive(Debug)]
pub struct CsvWriter {
    out: String,
    separator: char,
    quoting: Quoting,
    /// Cells written in the current row.
    cells: usize,
}

impl CsvWriter {
    /// A file for French spreadsheets: `;` between cells (the decimal separator is the
    /// comma), every text cell quoted.
    pub fn spreadsheet() -> CsvWriter {
        CsvWriter {
            out: String::new(),
            separator: ';',
            quoting: Quoting::Always,
            cells: 0,
        }
    }

    /// A file in the national open-data schema's form: `,` between cells, quotes only where
    /// the CSV syntax needs them.
    pub fn open_data() -> CsvWriter {
        CsvWriter {
            out: String::new(),
            separator: ',',
            quoting: Quoting::WhenNeeded,
            cells: 0,
        }
    }

    /// A header row of fixed column names, written as they are (they are ours).
    pub fn header(&mut self, names: &[&str]) -> &mut Self {
        for name in names {
            debug_assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' '),
                "a column name that needs quoting: {name}"
            );
            self.start_cell();
            self.out.push_str(name);
        }
        self.end_row()
    }

    /// A text cell.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.start_cell();
        let neutralise = value.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']);
        let flat: String = value
            .chars()
            .map(|c| if matches!(c, '\r' | '\n') { ' ' } else { c })
            .collect();
        let quote = match self.quoting {
            Quoting::Always => true,
            Quoting::WhenNeeded => {
                neutralise
                    || flat.contains([self.separator, '"'])
                    || flat.starts_with(' ')
                    || flat.ends_with(' ')
            }
        };
        if quote {
            self.out.push('"');
        }
        if neutralise {
            self.out.push('\'');
        }
        self.out.push_str(&flat.replace('"', "\"\""));
        if quote {
            self.out.push('"');
        }
        self
    }

    /// A number (an integer, or a decimal with `.` or `,`), written as is; anything that is
    /// not a number is written as [`CsvWriter::text`].
    pub fn number(&mut self, value: impl Display) -> &mut Self {
        let value = value.to_string();
        if !is_number(&value) {
            return self.text(&value);
        }
        self.start_cell();
        if value.contains(self.separator) {
            self.out.push('"');
            self.out.push_str(&value);
            self.out.push('"');
        } else {
            self.out.push_str(&value);
        }
        self
    }

    /// An empty cell.
    pub fn empty(&mut self) -> &mut Self {
        self.start_cell();
        self
    }

    /// Ends the current row (an empty row if no cell was written).
    pub fn end_row(&mut self) -> &mut Self {
        self.out.push('\n');
        self.cells = 0;
        self
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }

    fn start_cell(&mut self) {
        if self.cells > 0 {
            self.out.push(self.separator);
        }
        self.cells += 1;
    }
}

/// `[+-]?digits([.,]digits)?`
fn is_number(value: &str) -> bool {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (whole, fraction) = match unsigned.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_rows_cannot_be_forged() {
        let hostile = [
            "=HYPERLINK(\"http://evil\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "a;b\n=c;d",
            "\"quoted\";x",
        ];
        for csv in [CsvWriter::spreadsheet(), CsvWriter::open_data()] {
            let separator = csv.separator;
            let mut csv = csv;
            csv.header(&["a", "b", "c"]);
            for value in hostile {
                csv.text("site").text(value).number(12).end_row();
            }
            let text = csv.finish();
            assert_eq!(text.lines().count(), 1 + hostile.len(), "{text}");
            let rows = commune_tests::parse_csv(&text, separator);
            for (row, value) in rows[1..].iter().zip(hostile) {
                assert_eq!(row.len(), 3, "{row:?}");
                let cell = &row[1];
                let leading = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
                assert_eq!(cell.starts_with('\''), leading, "{cell:?}");
                assert!(!cell.contains('\n'), "{cell:?}");
                assert_eq!(row[2], "12");
            }
        }
    }

    #[test]
    fn spreadsheet_cells_are_all_quoted_numbers_are_not() {
        let mut csv = CsvWriter::spreadsheet();
        csv.header(&["site", "heures"]);
        csv.text("mdh-test")
            .number("1,50")
            .number(-3)
            .empty()
            .end_row();
        assert_eq!(csv.finish(), "site;heures\n\"mdh-test\";1,50;-3;\n");
    }

    #[test]
    fn open_data_quotes_only_where_needed_and_keeps_phone_numbers() {
        let mut csv = CsvWriter::open_data();
        csv.text("MDH Test")
            .text("Mo-Su 08:00-12:00,14:00-18:00")
            .number("+33476000000")
            .number("45.18")
            .number("1,5")
            .text("-rien")
            .end_row();
        assert_eq!(
            csv.finish(),
            "MDH Test,\"Mo-Su 08:00-12:00,14:00-18:00\",+33476000000,45.18,\"1,5\",\"'-rien\"\n"
        );
    }

    #[test]
    fn only_numbers_pass_as_numbers() {
        for n in ["0", "-12", "+33476000000", "1,50", "45.18"] {
            assert!(is_number(n), "{n}");
        }
        for n in ["", "-", "1,", "=1", "1e5", "1.2.3", "+1+1", "12 3"] {
            assert!(!is_number(n), "{n}");
        }
        let mut csv = CsvWriter::spreadsheet();
        csv.number("=1+1").end_row();
        assert_eq!(csv.finish(), "\"'=1+1\"\n");
    }
}
