//! Field rules of the PDS user API: lengths and formats, each refused with its documented code.

use serde_json::{Map, Value};

use crate::error::{Error, ParamProblem, Result};

// The limits are those `/openapi.json` states: one definition for both.
pub use roster_api::schema::{
    MAX_AVATAR_DATA, MAX_AVATAR_URL, MAX_DESCRIPTION, MAX_EMAIL, MAX_ID, MAX_IDENTITY, MAX_NAME,
    MAX_PASSWORD, MAX_PHONE, MAX_SIZE, MAX_TOKEN, MAX_USER_DATA, MAX_USER_ID, MIN_PASSWORD,
};

/// A required string: present (serde checked that), not empty, at most `max` characters.
pub fn required(name: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(
            Error::param(ParamProblem::Empty, name).with_rule(format!("{name} is required"))
        );
    }
    max_len(name, value, max)
}

pub fn max_len(name: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(
            Error::out_of_range(name).with_rule(format!("{name} is at most {max} characters"))
        );
    }
    Ok(())
}

pub fn optional(name: &str, value: Option<&str>, max: usize) -> Result<()> {
    value.map_or(Ok(()), |v| max_len(name, v, max))
}

/// `user_id`: 1..64 characters, no `#`, nothing invisible (see [`visible_text`]).
pub fn user_id(value: &str) -> Result<()> {
    required("user_id", value, MAX_USER_ID)?;
    if value.contains('#') || !visible_text(value) {
        return Err(
            Error::param(ParamProblem::WrongFormat, "user_id").with_rule(
                "user_id may not contain '#', invisible characters or spaces at either end",
            ),
        );
    }
    Ok(())
}

/// Whether a name people read and compare (a user id, a logon identity) shows everything it
/// holds: no control characters (Unicode Cc), no format characters (Cf: zero-width spaces and
/// joiners, bidirectional overrides, the BOM...), no line or paragraph separators (Zl, Zp),
/// and no whitespace at either end. Two such names that look different are different.
pub fn visible_text(value: &str) -> bool {
    let edges_visible = value
        .chars()
        .next()
        .into_iter()
        .chain(value.chars().next_back())
        .all(|c| !c.is_whitespace());
    edges_visible && !value.chars().any(is_invisible)
}

/// Unicode general categories Cc, Cf, Zl and Zp (Unicode 15.1).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
            | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// A logon identity of `kind` (`email`, `mobile`, `ldap`, `custom`): 1..256 visible
/// characters, in the format of its kind. Answers it as stored and compared: e-mail
/// addresses in lower case (ASCII, as the store's `lower()` folds), so `ADAM@x` and
/// `adam@x` are one identity.
pub fn identity(kind: &str, value: &str) -> Result<String> {
    required("identity", value, MAX_IDENTITY)?;
    let format = match kind {
        "email" => email(Some(value)),
        "mobile" => phone(Some(value)),
        _ => Ok(()),
    };
    if format.is_err() || !visible_text(value) {
        return Err(Error::param(ParamProblem::WrongFormat, "identity"));
    }
    Ok(normal_identity(kind, value))
}

/// An identity as the store keeps it: e-mail addresses lower-cased, others as given.
pub fn normal_identity(kind: &str, value: &str) -> String {
    if kind == "email" {
        value.to_ascii_lowercase()
    } else {
        value.to_owned()
    }
}

/// A size in bytes: `min` (-1 for "unlimited", or 0) up to [`MAX_SIZE`].
pub fn size(name: &str, value: Option<i64>, min: i64) -> Result<()> {
    match value {
        Some(v) if v < min || v > MAX_SIZE => Err(Error::out_of_range(name)),
        _ => Ok(()),
    }
}

/// The fields of a password login, checked before anything about the attempt is stored or
/// recorded: nothing an anonymous caller sends is kept beyond these bounds.
pub fn login(username: &str, password: &str) -> Result<()> {
    required("username", username, MAX_IDENTITY)?;
    required("password", password, MAX_PASSWORD)
}

/// An opaque token a client hands back (refresh token, reset token).
pub fn token(name: &str, value: &str) -> Result<()> {
    required(name, value, MAX_TOKEN)
}

pub fn email(value: Option<&str>) -> Result<()> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    max_len("email", v, MAX_EMAIL)?;
    let well_formed = v.split_once('@').is_some_and(|(local, host)| {
        !local.is_empty() && !host.is_empty() && !v.chars().any(char::is_whitespace)
    });
    if !well_formed {
        return Err(Error::param(ParamProblem::WrongFormat, "email")
            .with_rule("an email address is name@host, without spaces"));
    }
    Ok(())
}

pub fn phone(value: Option<&str>) -> Result<()> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    max_len("phone", v, MAX_PHONE)?;
    if !v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '*' | '(' | ')'))
    {
        return Err(Error::param(ParamProblem::WrongFormat, "phone")
            .with_rule("a phone number holds digits and + - ( ) * or spaces"));
    }
    Ok(())
}

/// `avatar`: an `http(s)://` URL up to 4 Ki characters, or a `data:` URI up to 300 Ki
/// characters (characters, as every other limit here and in the OpenAPI schema).
pub fn avatar(value: Option<&str>) -> Result<()> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let max = if v.starts_with("http://") || v.starts_with("https://") {
        MAX_AVATAR_URL
    } else if v.starts_with("data:") {
        MAX_AVATAR_DATA
    } else {
        return Err(Error::param(ParamProblem::WrongFormat, "avatar")
            .with_rule("avatar is an http(s):// URL or a data: URI"));
    };
    max_len("avatar", v, max)?;
    Ok(())
}

/// `user_data`: any JSON object of at most 1024 characters once serialised.
pub fn user_data(value: Option<&Map<String, Value>>) -> Result<Option<String>> {
    let Some(map) = value else {
        return Ok(None);
    };
    let text = serde_json::to_string(map).map_err(|_| Error::invalid("user_data"))?;
    max_len("user_data", &text, MAX_USER_DATA)?;
    Ok(Some(text))
}

pub fn password(value: &str) -> Result<()> {
    let n = value.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(Error::out_of_range("plain_password").with_rule(format!(
            "a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )));
    }
    Ok(())
}

/// The optional profile fields of a user, as create and update take them.
pub struct Profile<'a> {
    pub user_name: Option<&'a str>,
    pub nick_name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub phone_region: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub avatar: Option<&'a str>,
    pub expired_at: Option<i64>,
    pub user_data: Option<&'a Map<String, Value>>,
    pub plain_password: Option<&'a str>,
}

/// Checks every profile field given; answers `user_data` serialised, if given.
pub fn profile(p: &Profile<'_>) -> Result<Option<String>> {
    optional("user_name", p.user_name, MAX_NAME)?;
    optional("nick_name", p.nick_name, MAX_NAME)?;
    optional("description", p.description, MAX_DESCRIPTION)?;
    optional("phone_region", p.phone_region, MAX_PHONE)?;
    email(p.email)?;
    phone(p.phone)?;
    avatar(p.avatar)?;
    expired_at(p.expired_at)?;
    if let Some(pw) = p.plain_password {
        password(pw)?;
    }
    user_data(p.user_data)
}

pub fn expired_at(value: Option<i64>) -> Result<()> {
    match value {
        Some(v) if v < 0 => Err(Error::out_of_range("expired_at")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids() {
        assert!(user_id("alice").is_ok());
        assert!(user_id(&"x".repeat(64)).is_ok());
        assert!(user_id(&"x".repeat(65)).is_err());
        assert!(user_id("a#b").is_err());
        assert!(user_id("").is_err());
    }

    #[test]
    fn invisible_characters_and_edge_spaces_are_refused_in_ids() {
        for bad in [
            "ali\u{200B}ce",
            "\u{202E}ecila",
            "\u{FEFF}alice",
            "ali\u{2028}ce",
            " alice",
            "alice ",
            "ali\u{00AD}ce",
        ] {
            assert!(user_id(bad).is_err(), "{bad:?}");
        }
        assert!(user_id("Alice Liddell").is_ok());
        assert!(user_id("爱丽丝").is_ok());
    }

    #[test]
    fn email_identities_are_kept_in_lower_case() {
        assert_eq!(identity("email", "ADAM@X.org").unwrap(), "adam@x.org");
        assert_eq!(identity("custom", "ADAM@X.org").unwrap(), "ADAM@X.org");
        assert!(identity("custom", "adam\u{200D}").is_err());
    }

    #[test]
    fn sizes_are_bounded() {
        assert!(size("total_size", Some(-1), -1).is_ok());
        assert!(size("total_size", Some(MAX_SIZE), -1).is_ok());
        assert!(size("total_size", Some(MAX_SIZE + 1), -1).is_err());
        assert!(size("size_quota", Some(-1), 0).is_err());
    }

    #[test]
    fn avatars() {
        assert!(avatar(Some("https://a/b.png")).is_ok());
        assert!(avatar(Some("data:image/png;base64,AAAA")).is_ok());
        assert!(avatar(Some("ftp://x")).is_err());
        assert!(avatar(Some(&format!("http://{}", "a".repeat(5000)))).is_err());
    }
}
