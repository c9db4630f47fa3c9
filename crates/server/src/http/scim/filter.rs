//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a tokenizer and a small
//! recursive-descent parser into an AST the translation reads. Names are matched
//! case-insensitively, so the parser lower-cases them; string values keep their case.

use serde_json::Value;

pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE_USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const CORE_GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The longest filter or path accepted (a filter is a query parameter; nothing legitimate
/// comes near it).
const MAX_TEXT: usize = 4096;
/// How deep parentheses, `not` and value paths may nest.
const MAX_DEPTH: usize = 16;

/// An attribute path: `name`, `name.sub`, or either behind the extension's URN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// `true` when the path names the Enterprise User extension.
    pub enterprise: bool,
    /// Lower-cased.
    pub name: String,
    /// Lower-cased.
    pub sub: Option<String>,
}

impl AttrPath {
    /// `name` or `name.sub`, lower-cased, for matching.
    pub fn dotted(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{sub}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(AttrPath, CompareOp, Value),
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: the filter applies to the elements of the multi-valued `attr`.
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH path: an attribute, optionally narrowed to the elements a filter selects, and
/// optionally a sub-attribute of those elements (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// After a value filter: the sub-attribute (lower-cased).
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    if text.len() > MAX_TEXT {
        return Err(format!("longer than {MAX_TEXT} bytes"));
    }
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '[' => {
                chars.next();
                tokens.push(Token::OpenBracket);
            }
            ']' => {
                chars.next();
                tokens.push(Token::CloseBracket);
            }
            '"' => {
                // A JSON string: find its end, honouring escapes, and let serde decode it.
                chars.next();
                let mut escaped = false;
                let mut end = None;
                for (i, c) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        end = Some(i);
                        break;
                    }
                }
                let end = end.ok_or("an unterminated string")?;
                let value: String = serde_json::from_str(&text[start..=end])
                    .map_err(|_| "a malformed string".to_owned())?;
                tokens.push(Token::Str(value));
            }
            _ => {
                let mut end = start;
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(text[start..end].to_owned()));
            }
        }
    }
    Ok(tokens)
}

/// Parses an attribute path (`userName`, `name.givenName`, `urn:...:User:department`).
pub fn attr_path(text: &str) -> Result<AttrPath, String> {
    let lower = text.to_ascii_lowercase();
    let (enterprise, rest) =
        if let Some(rest) = lower.strip_prefix(&(ENTERPRISE_URN.to_ascii_lowercase() + ":")) {
            (true, rest.to_owned())
        } else if let Some(rest) = lower
            .strip_prefix(&(CORE_USER_URN.to_ascii_lowercase() + ":"))
            .or_else(|| lower.strip_prefix(&(CORE_GROUP_URN.to_ascii_lowercase() + ":")))
        {
            (false, rest.to_owned())
        } else if lower.starts_with("urn:") {
            return Err(format!("unknown schema in {text:?}"));
        } else {
            (false, lower)
        };
    let mut parts = rest.splitn(2, '.');
    let name = parts.next().unwrap_or_default().to_owned();
    let sub = parts.next().map(str::to_owned);
    let valid = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
    };
    if !valid(&name) || sub.as_deref().is_some_and(|s| !valid(s)) {
        return Err(format!("{text:?} is not an attribute path"));
    }
    Ok(AttrPath {
        enterprise,
        name,
        sub,
    })
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Filter, String> {
        let mut left = self.and_expr()?;
        while self.peek_word("or") {
            self.next();
            let right = self.and_expr()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.next();
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.peek_word("not") {
            self.next();
            if self.peek() != Some(&Token::Open) {
                return Err("not must be followed by (".into());
            }
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            self.nest()?;
            let inner = self.or_expr()?;
            self.depth -= 1;
            if self.next() != Some(Token::Close) {
                return Err("a ( is not closed".into());
            }
            return Ok(inner);
        }
        self.attr_expr()
    }

    fn attr_expr(&mut self) -> Result<Filter, String> {
        let Some(Token::Word(word)) = self.next() else {
            return Err("an attribute path was expected".into());
        };
        let path = attr_path(&word)?;
        if self.peek() == Some(&Token::OpenBracket) {
            self.next();
            self.nest()?;
            let inner = self.or_expr()?;
            self.depth -= 1;
            if self.next() != Some(Token::CloseBracket) {
                return Err("a [ is not closed".into());
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let Some(Token::Word(op)) = self.next() else {
            return Err(format!("an operator was expected after {word}"));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            other => return Err(format!("unknown operator {other:?}")),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                number => serde_json::from_str::<serde_json::Number>(number)
                    .map(Value::Number)
                    .map_err(|_| format!("{number:?} is not a value"))?,
            },
            _ => return Err("a value was expected".into()),
        };
        Ok(Filter::Compare(path, op, value))
    }
}

/// Parses a filter; the error says what is wrong, for the `detail` of `invalidFilter`.
pub fn parse_filter(text: &str) -> Result<Filter, String> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Err("the filter is empty".into());
    }
    let filter = parser.or_expr()?;
    if parser.at != parser.tokens.len() {
        return Err("unexpected text after the filter".into());
    }
    Ok(filter)
}

/// Parses a PATCH path; the error is for the `detail` of `invalidPath`.
pub fn parse_patch_path(text: &str) -> Result<PatchPath, String> {
    if text.len() > MAX_TEXT {
        return Err(format!("longer than {MAX_TEXT} bytes"));
    }
    let Some(open) = text.find('[') else {
        return Ok(PatchPath {
            attr: attr_path(text.trim())?,
            filter: None,
            sub: None,
        });
    };
    let close = text.rfind(']').ok_or("a [ is not closed")?;
    if close < open {
        return Err("a [ is not closed".into());
    }
    let attr = attr_path(text[..open].trim())?;
    let filter = parse_filter(&text[open + 1..close])?;
    let rest = text[close + 1..].trim();
    let sub = match rest.strip_prefix('.') {
        Some(sub) if !sub.is_empty() => {
            let sub = attr_path(sub)?;
            if sub.sub.is_some() {
                return Err("a path goes at most one level below a filter".into());
            }
            Some(sub.name)
        }
        None if rest.is_empty() => None,
        _ => return Err("unexpected text after ]".into()),
    };
    Ok(PatchPath {
        attr,
        filter: Some(filter),
        sub,
    })
}

/// Whether a JSON element (of a multi-valued attribute) matches a value filter; attribute
/// names compare case-insensitively, strings too (SCIM's default `caseExact: false`).
pub fn element_matches(element: &Value, filter: &Filter) -> bool {
    match filter {
        Filter::And(a, b) => element_matches(element, a) && element_matches(element, b),
        Filter::Or(a, b) => element_matches(element, a) || element_matches(element, b),
        Filter::Not(a) => !element_matches(element, a),
        Filter::ValuePath(..) => false,
        Filter::Present(path) => {
            field(element, &path.name).is_some_and(|v| !v.is_null() && v != &Value::from(""))
        }
        Filter::Compare(path, op, wanted) => {
            let Some(have) = field(element, &path.name) else {
                return *op == CompareOp::Ne;
            };
            compare(have, *op, wanted)
        }
    }
}

fn field<'a>(element: &'a Value, name: &str) -> Option<&'a Value> {
    element
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn compare(have: &Value, op: CompareOp, wanted: &Value) -> bool {
    if let (Some(have), Some(wanted)) = (have.as_str(), wanted.as_str()) {
        let (have, wanted) = (have.to_lowercase(), wanted.to_lowercase());
        return match op {
            CompareOp::Eq => have == wanted,
            CompareOp::Ne => have != wanted,
            CompareOp::Co => have.contains(&wanted),
            CompareOp::Sw => have.starts_with(&wanted),
            CompareOp::Ew => have.ends_with(&wanted),
            CompareOp::Gt => have > wanted,
            CompareOp::Ge => have >= wanted,
            CompareOp::Lt => have < wanted,
            CompareOp::Le => have <= wanted,
        };
    }
    match op {
        CompareOp::Eq => have == wanted,
        CompareOp::Ne => have != wanted,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            enterprise: false,
            name: name.into(),
            sub: sub.map(str::to_owned),
        }
    }

    #[test]
    fn parses_comparisons_and_precedence() {
        let f = parse_filter(
            r#"userName Eq "Bjensen" and (emails.value co "x" or not (active eq true))"#,
        )
        .unwrap();
        let Filter::And(left, right) = f else {
            panic!("and expected")
        };
        assert_eq!(
            *left,
            Filter::Compare(path("username", None), CompareOp::Eq, "Bjensen".into())
        );
        assert!(matches!(*right, Filter::Or(_, _)));
        // and binds tighter than or
        assert!(matches!(
            parse_filter("a pr or b pr and c pr").unwrap(),
            Filter::Or(_, _)
        ));
    }

    #[test]
    fn parses_value_paths_and_urns() {
        let f = parse_filter(r#"emails[type eq "work" and value co "@example.com"]"#).unwrap();
        assert!(matches!(f, Filter::ValuePath(ref p, _) if p.name == "emails"));
        let f = parse_filter(&format!("{ENTERPRISE_URN}:employeeNumber eq \"7\"")).unwrap();
        assert!(
            matches!(f, Filter::Compare(ref p, CompareOp::Eq, _) if p.enterprise && p.name == "employeenumber")
        );
        let f = parse_filter(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#).unwrap();
        assert!(
            matches!(f, Filter::Compare(ref p, CompareOp::Gt, _) if p.dotted() == "meta.lastmodified")
        );
    }

    #[test]
    fn refuses_malformed_filters() {
        for bad in [
            "",
            "userName",
            "userName eq",
            "userName zz \"x\"",
            "userName eq \"x",
            "(userName eq \"x\"",
            "userName eq \"x\")",
            "userName eq bare",
            "emails[type eq \"work\"",
            "urn:foo:bar eq \"x\"",
            "1abc eq \"x\"",
            "not userName eq \"x\"",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "(".repeat(40) + "a pr" + &")".repeat(40);
        assert!(parse_filter(&deep).is_err());
    }

    #[test]
    fn parses_patch_paths() {
        let p = parse_patch_path(r#"members[value eq "2819c223"]"#).unwrap();
        assert_eq!(p.attr, path("members", None));
        assert!(p.filter.is_some() && p.sub.is_none());
        let p = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.sub.as_deref(), Some("value"));
        let p = parse_patch_path("name.familyName").unwrap();
        assert_eq!(p.attr, path("name", Some("familyname")));
        assert!(parse_patch_path("members[value eq \"x\"]junk").is_err());
        assert!(parse_patch_path("").is_err());
    }

    #[test]
    fn matches_elements() {
        let work = serde_json::json!({"type": "work", "value": "A@Example.com"});
        let f = parse_filter(r#"type eq "WORK" and value ew "example.com""#).unwrap();
        assert!(element_matches(&work, &f));
        let f = parse_filter(r#"type eq "home""#).unwrap();
        assert!(!element_matches(&work, &f));
    }
}
