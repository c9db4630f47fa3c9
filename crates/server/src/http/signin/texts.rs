//! What the pages say, in English and Simplified Chinese, chosen by `Accept-Language`.

use axum::http::{header, HeaderMap};

use crate::error::{AuthProblem, Error};

/// Every sentence of the pages in one language.
pub struct Texts {
    /// The `lang` attribute.
    pub lang: &'static str,
    pub sign_in: &'static str,
    pub to_continue_to: &'static str,
    pub account: &'static str,
    pub password: &'static str,
    pub consent_title: &'static str,
    pub consent_wants: &'static str,
    pub scope_basic: &'static str,
    pub signed_in_as: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,
    pub my_account: &'static str,
    pub sessions: &'static str,
    pub session_started: &'static str,
    pub this_browser: &'static str,
    pub sign_out: &'static str,
    pub sign_out_everywhere: &'static str,
    pub error_title: &'static str,
    unknown_client: &'static str,
    bad_redirect_uri: &'static str,
    bad_credentials: &'static str,
    /// `{}`: the seconds to wait.
    locked: &'static str,
    forbidden: &'static str,
    bad_input: &'static str,
    failed: &'static str,
}

pub static EN: Texts = Texts {
    lang: "en",
    sign_in: "Sign in",
    to_continue_to: "to continue to",
    account: "Account",
    password: "Password",
    consent_title: "Allow access?",
    consent_wants: "wants to access your account:",
    scope_basic: "your user ID and basic profile",
    signed_in_as: "Signed in as",
    allow: "Allow",
    deny: "Deny",
    my_account: "My account",
    sessions: "Signed-in browsers",
    session_started: "Signed in at",
    this_browser: "this browser",
    sign_out: "Sign out",
    sign_out_everywhere: "Sign out everywhere",
    error_title: "Something went wrong",
    unknown_client: "This application is not known here, or it is disabled.",
    bad_redirect_uri: "The application asked to return to an address it has not registered.",
    bad_credentials: "The account or password is incorrect.",
    locked: "Too many failed attempts. Try again in {} seconds.",
    forbidden:
        "This form came from another site or has expired. Go back, reload the page and try again.",
    bad_input: "The request is not valid.",
    failed: "The server could not complete the request. Try again later.",
};

pub static ZH: Texts = Texts {
    lang: "zh-CN",
    sign_in: "登录",
    to_continue_to: "以继续使用",
    account: "账号",
    password: "密码",
    consent_title: "允许访问？",
    consent_wants: "请求访问您的账号：",
    scope_basic: "您的用户 ID 和基本资料",
    signed_in_as: "当前登录：",
    allow: "允许",
    deny: "拒绝",
    my_account: "我的账号",
    sessions: "已登录的浏览器",
    session_started: "登录于",
    this_browser: "当前浏览器",
    sign_out: "退出登录",
    sign_out_everywhere: "在所有设备上退出",
    error_title: "出错了",
    unknown_client: "此应用未注册或已停用。",
    bad_redirect_uri: "应用要求返回到一个未登记的地址。",
    bad_credentials: "账号或密码错误。",
    locked: "失败次数过多，请在 {} 秒后重试。",
    forbidden: "此表单来自其他网站或已过期。请返回、刷新页面后重试。",
    bad_input: "请求无效。",
    failed: "服务器无法完成请求，请稍后重试。",
};

impl Texts {
    /// What a person is told of an error: never its internals.
    pub fn error_sentence(&self, e: &Error) -> String {
        match e {
            Error::TooManyRequests(seconds) => self.locked.replace("{}", &seconds.to_string()),
            Error::Unauthorized(AuthProblem::ClientInvalid) => self.unknown_client.into(),
            Error::Unauthorized(_) => self.bad_credentials.into(),
            Error::Forbidden(_) => self.forbidden.into(),
            Error::InvalidParameter { .. } => self.bad_input.into(),
            _ => self.failed.into(),
        }
    }

    pub fn unknown_client(&self) -> &'static str {
        self.unknown_client
    }

    pub fn bad_redirect_uri(&self) -> &'static str {
        self.bad_redirect_uri
    }
}

/// The language a request prefers among ours: Chinese when a `zh` tag outranks every
/// English one (by `q`), else English.
pub fn for_request(headers: &HeaderMap) -> &'static Texts {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut best: (f32, &'static Texts) = (0.0, &EN);
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let texts: &'static Texts = if tag == "zh" || tag.starts_with("zh-") {
            &ZH
        } else if tag == "en" || tag.starts_with("en-") {
            &EN
        } else {
            continue;
        };
        if q > best.0 {
            best = (q, texts);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn lang(accept: &str) -> &'static str {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(accept).unwrap(),
        );
        for_request(&headers).lang
    }

    #[test]
    fn chinese_when_preferred() {
        assert_eq!(lang("zh-CN,zh;q=0.9,en;q=0.8"), "zh-CN");
        assert_eq!(lang("en-US,en;q=0.9,zh-CN;q=0.8"), "en");
        assert_eq!(lang("fr, zh;q=0.5"), "zh-CN");
        assert_eq!(lang("fr"), "en");
        assert_eq!(lang(""), "en");
    }
}
