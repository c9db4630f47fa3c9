//! Roster's users CSV format, read the same way by `roster import` (the CLI) and the console's
//! import: the columns, the header's rules, one row into a user to import (or the reason it
//! cannot be one), the file's own repeats, and the reject file (the file's columns plus
//! `error_line`, `error_code`, `error_message`, which a fixed reject file may keep: `error_*`
//! columns are ignored on the way in).

use std::collections::HashMap;

use crate::model::LogonKind;

/// The columns a file may have, in any order; only `identity` is required.
pub const COLUMNS: [&str; 9] = [
    "user_id",
    "nick_name",
    "authentication_type",
    "identity",
    "email",
    "phone",
    "password",
    "group_id",
    "drive_size",
];

/// The code a reject file gives rows that could not be read.
pub const MALFORMED: &str = "MalformedRow";
/// The code of a row naming a user or identity an earlier row of the same file named (not
/// "skipped as existing": the file contradicts itself).
pub const DUPLICATE: &str = "DuplicateRow";

/// What is wrong with a header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    /// A column the format does not have (a typo would lose data).
    UnknownColumn(String),
    NoIdentity,
}

impl std::fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderProblem::UnknownColumn(name) => write!(
                f,
                "unknown column {name:?} in the header row; the columns are: {}",
                COLUMNS.join(", ")
            ),
            HeaderProblem::NoIdentity => f.write_str("the header row has no identity column"),
        }
    }
}

/// Where each known column of a file is, and how many fields its rows have.
#[derive(Debug, Clone)]
pub struct Columns {
    positions: HashMap<&'static str, usize>,
    width: usize,
}

impl Columns {
    /// Reads the header row. `error_*` columns (a reject file's) are ignored; a leading
    /// byte-order mark is dropped.
    pub fn of_header(header: &csv::ByteRecord) -> Result<Columns, HeaderProblem> {
        let mut positions = HashMap::new();
        for (index, name) in header.iter().enumerate() {
            let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
            let name = name.trim_start_matches('\u{feff}');
            if name.starts_with("error_") {
                continue;
            }
            let Some(known) = COLUMNS.iter().find(|c| **c == name) else {
                return Err(HeaderProblem::UnknownColumn(name.to_owned()));
            };
            positions.insert(*known, index);
        }
        if !positions.contains_key("identity") {
            return Err(HeaderProblem::NoIdentity);
        }
        Ok(Columns {
            positions,
            width: header.len(),
        })
    }
}

/// A user a row names, as the file says it.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvUser {
    pub user_id: Option<String>,
    /// The identity when the row gives none.
    pub nick_name: String,
    /// `email` when the row gives none.
    pub kind: LogonKind,
    pub identity: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password: Option<String>,
    pub group_id: Option<String>,
    /// Bytes (`-1`: unlimited); a row with a size asks for a drive.
    pub drive_size: Option<i64>,
}

/// One data row: where it is, its fields as written, and the user it names.
#[derive(Debug, Clone)]
pub struct CsvRow {
    pub line: u64,
    pub fields: Vec<String>,
    pub user: CsvUser,
}

/// A row that failed, for the reject file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvReject {
    pub line: u64,
    pub fields: Vec<String>,
    pub code: String,
    pub message: String,
}

impl CsvReject {
    /// `row` refused with `code` and `message`.
    pub fn of(row: CsvRow, code: &str, message: &str) -> CsvReject {
        CsvReject {
            line: row.line,
            fields: row.fields,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// A row that could not be read.
    pub fn malformed(line: u64, fields: Vec<String>, why: &str) -> CsvReject {
        CsvReject {
            line,
            fields,
            code: MALFORMED.into(),
            message: why.to_owned(),
        }
    }
}

/// Reads one data row into the user it names, or says why it cannot be one.
pub fn read_row(
    line: u64,
    record: &csv::ByteRecord,
    columns: &Columns,
) -> Result<CsvRow, CsvReject> {
    let fields: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if record.iter().any(|f| std::str::from_utf8(f).is_err()) {
        return Err(CsvReject::malformed(line, fields, "not valid UTF-8"));
    }
    if fields.len() != columns.width {
        let why = format!("{} fields, the header has {}", fields.len(), columns.width);
        return Err(CsvReject::malformed(line, fields, &why));
    }
    let field = |name: &str| {
        columns
            .positions
            .get(name)
            .map(|&i| fields[i].trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let Some(identity) = field("identity") else {
        return Err(CsvReject::malformed(line, fields, "identity is empty"));
    };
    let kind = match field("authentication_type").as_deref() {
        None | Some("email") => LogonKind::Email,
        Some("mobile") => LogonKind::Mobile,
        Some("ldap") => LogonKind::Ldap,
        Some("custom") => LogonKind::Custom,
        Some(other) => {
            let why =
                format!("authentication_type {other:?} is not one of email, mobile, ldap, custom");
            return Err(CsvReject::malformed(line, fields, &why));
        }
    };
    let drive_size = match field("drive_size").map(|s| parse_size(&s)) {
        None => None,
        Some(Ok(size)) => Some(size),
        Some(Err(why)) => return Err(CsvReject::malformed(line, fields, &why)),
    };
    let user = CsvUser {
        user_id: field("user_id"),
        nick_name: field("nick_name").unwrap_or_else(|| identity.clone()),
        kind,
        identity,
        email: field("email"),
        phone: field("phone"),
        password: field("password"),
        group_id: field("group_id"),
        drive_size,
    };
    Ok(CsvRow { line, fields, user })
}

/// A drive size: bytes, or a number with `K`, `M`, `G` or `T` (powers of 1024, an optional
/// `B` or `iB` after), or `-1` for unlimited.
pub fn parse_size(text: &str) -> Result<i64, String> {
    let upper = text.trim().to_ascii_uppercase();
    let digits = upper.trim_end_matches(['B', 'I']);
    let (number, shift) = match digits.chars().last() {
        Some('K') => (&digits[..digits.len() - 1], 10),
        Some('M') => (&digits[..digits.len() - 1], 20),
        Some('G') => (&digits[..digits.len() - 1], 30),
        Some('T') => (&digits[..digits.len() - 1], 40),
        _ => (digits, 0),
    };
    let bad = || format!("drive_size {text:?} is not a size such as 1073741824, 10G or -1");
    let number: i64 = number.trim().parse().map_err(|_| bad())?;
    if number == -1 && shift == 0 {
        return Ok(-1);
    }
    if number < 0 {
        return Err(bad());
    }
    number.checked_mul(1i64 << shift).ok_or_else(bad)
}

/// The first line of the file that named each user id and each logon identity, so that a
/// later row naming one again is refused with the line it repeats. Keys are 64-bit hashes:
/// a million rows cost 32 MiB, not the strings.
#[derive(Default)]
pub struct FirstRows {
    lines: HashMap<u64, u64>,
}

impl FirstRows {
    /// The row, or its refusal as a repeat of an earlier row.
    pub fn check(&mut self, row: CsvRow) -> Result<CsvRow, CsvReject> {
        let identity = format!(
            "{}:{}",
            row.user.kind.as_str(),
            row.user.identity.to_lowercase()
        );
        if let Some(user_id) = &row.user.user_id {
            if let Some(first) = self.first_line(&("user_id", user_id), row.line) {
                let why = format!("user_id {user_id} is on line {first} of this file already");
                return Err(CsvReject::of(row, DUPLICATE, &why));
            }
        }
        if let Some(first) = self.first_line(&("identity", &identity), row.line) {
            let why = format!(
                "identity {} is on line {first} of this file already",
                row.user.identity
            );
            return Err(CsvReject::of(row, DUPLICATE, &why));
        }
        Ok(row)
    }

    /// The line that named `key` before `line`, or none (and `line` becomes its first).
    fn first_line(&mut self, key: &impl std::hash::Hash, line: u64) -> Option<u64> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        match self.lines.entry(hash) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(line);
                None
            }
        }
    }
}

/// Writes the reject file: the file's own columns (without `error_*` ones), then
/// `error_line`, `error_code`, `error_message`, a row per reject.
pub fn write_rejects<W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    header: &csv::ByteRecord,
    rejects: &[CsvReject],
) -> csv::Result<()> {
    let mut columns: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .filter(|h| !h.trim().to_ascii_lowercase().starts_with("error_"))
        .collect();
    let width = columns.len();
    columns.extend(["error_line", "error_code", "error_message"].map(String::from));
    writer.write_record(&columns)?;
    for reject in rejects {
        let mut record: Vec<String> = reject.fields.iter().take(width).cloned().collect();
        record.resize(width, String::new());
        record.extend([
            reject.line.to_string(),
            reject.code.clone(),
            reject.message.clone(),
        ]);
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> csv::ByteRecord {
        csv::ByteRecord::from(fields.to_vec())
    }

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("10G"), Ok(10 << 30));
        assert_eq!(parse_size("10GiB"), Ok(10 << 30));
        assert_eq!(parse_size("5 MB"), Ok(5 << 20));
        assert_eq!(parse_size("-1"), Ok(-1));
        assert!(parse_size("-2").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("9999999999T").is_err());
    }

    #[test]
    fn a_header_needs_identity_and_known_columns_only() {
        let columns = Columns::of_header(&record(&["\u{feff}identity", "error_code"])).unwrap();
        assert_eq!(columns.width, 2);
        assert_eq!(
            Columns::of_header(&record(&["user_id"])).unwrap_err(),
            HeaderProblem::NoIdentity
        );
        assert_eq!(
            Columns::of_header(&record(&["identity", "mail"])).unwrap_err(),
            HeaderProblem::UnknownColumn("mail".into())
        );
    }

    #[test]
    fn rows_read_their_user_or_say_why_not_and_repeats_are_refused() {
        let columns =
            Columns::of_header(&record(&["identity", "authentication_type", "drive_size"]))
                .unwrap();
        let row = read_row(2, &record(&["Ann@x.org", "", "1G"]), &columns).unwrap();
        assert_eq!(row.user.kind, LogonKind::Email);
        assert_eq!(row.user.nick_name, "Ann@x.org");
        assert_eq!(row.user.drive_size, Some(1 << 30));
        let bad = read_row(3, &record(&["b", "fax", ""]), &columns).unwrap_err();
        assert_eq!(bad.code, MALFORMED);
        assert_eq!(bad.fields, ["b", "fax", ""]);
        let short = read_row(4, &record(&["c"]), &columns).unwrap_err();
        assert_eq!(short.message, "1 fields, the header has 3");

        let mut first = FirstRows::default();
        assert!(first.check(row).is_ok());
        let again = read_row(5, &record(&["ann@X.org", "email", ""]), &columns).unwrap();
        let refused = first.check(again).unwrap_err();
        assert_eq!(refused.code, DUPLICATE);
        assert_eq!(
            refused.message,
            "identity ann@X.org is on line 2 of this file already"
        );
    }
}
