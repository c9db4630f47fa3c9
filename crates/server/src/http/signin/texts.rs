//! What the pages say, in English and Simplified Chinese, chosen by `Accept-Language`.

use axum::http::{header, HeaderMap};

use crate::error::{AuthProblem, Error};
use crate::service::apps::KNOWN_SCOPES;

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
    pub forgot_link: &'static str,
    pub forgot_title: &'static str,
    pub forgot_intro: &'static str,
    pub send_link: &'static str,
    pub forgot_sent: &'static str,
    pub back_to_sign_in: &'static str,
    pub reset_title: &'static str,
    pub reset_done: &'static str,
    pub reset_unusable: &'static str,
    pub change_password: &'static str,
    pub must_change: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub confirm_password: &'static str,
    pub password_rule: &'static str,
    pub passwords_differ: &'static str,
    pub wrong_current_password: &'static str,
    pub change_denied: &'static str,
    pub password_changed: &'static str,
    pub profile: &'static str,
    pub nick_name: &'static str,
    pub avatar: &'static str,
    pub avatar_rule: &'static str,
    pub save: &'static str,
    pub profile_saved: &'static str,
    pub linked_accounts: &'static str,
    pub last_seen: &'static str,
    /// What each scope lets an app do, in [`KNOWN_SCOPES`](crate::service::apps::KNOWN_SCOPES) order.
    scopes: [&'static str; 6],
    /// A date and time: `{d}` day, `{m}` month (a number; `months` names it), `{y}`, `{t}`.
    date_time: &'static str,
    months: [&'static str; 12],
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
    forgot_link: "Forgot password?",
    forgot_title: "Forgot your password?",
    forgot_intro: "Enter your account. If it exists and has an e-mail address, we mail it a link \
                   to set a new password.",
    send_link: "Send the link",
    forgot_sent: "If the account exists and has an e-mail address, a link to set a new password \
                  is on its way. It works once, within 24 hours.",
    back_to_sign_in: "Back to sign in",
    reset_title: "Set a new password",
    reset_done: "Your new password is set. Sign in with it.",
    reset_unusable: "This link has expired or has been used. Ask for a new one.",
    change_password: "Change password",
    must_change: "Your administrator asks you to set a new password before you go on.",
    current_password: "Current password",
    new_password: "New password",
    confirm_password: "New password again",
    password_rule: "8 to 256 characters.",
    passwords_differ: "The two new passwords are not the same.",
    wrong_current_password: "The current password is incorrect.",
    change_denied: "Your administrator does not let you change your password.",
    password_changed:
        "Your password has been changed. Your other browsers and apps are signed out.",
    profile: "Profile",
    nick_name: "Display name",
    avatar: "Picture (URL)",
    avatar_rule: "An https:// address of an image, or empty.",
    save: "Save",
    profile_saved: "Your profile has been saved.",
    linked_accounts: "Accounts you sign in with",
    last_seen: "last used",
    scopes: [
        "confirm who you are (your user ID)",
        "see your name, username and picture",
        "see your e-mail address",
        "see the groups you are in",
        "see your storage quota",
        "stay signed in when you are away",
    ],
    date_time: "{d} {m} {y}, {t} UTC",
    months: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
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
    forgot_link: "忘记密码？",
    forgot_title: "忘记密码了？",
    forgot_intro: "请输入您的账号。如果该账号存在并有电子邮箱，我们会发送一个设置新密码的链接。",
    send_link: "发送链接",
    forgot_sent:
        "如果该账号存在并有电子邮箱，设置新密码的链接已经发出。链接只能使用一次，24 小时内有效。",
    back_to_sign_in: "返回登录",
    reset_title: "设置新密码",
    reset_done: "新密码已设置，请用它登录。",
    reset_unusable: "此链接已过期或已被使用，请重新申请。",
    change_password: "修改密码",
    must_change: "管理员要求您先设置新密码才能继续。",
    current_password: "当前密码",
    new_password: "新密码",
    confirm_password: "再次输入新密码",
    password_rule: "8 到 256 个字符。",
    passwords_differ: "两次输入的新密码不一致。",
    wrong_current_password: "当前密码不正确。",
    change_denied: "管理员不允许您自行修改密码。",
    password_changed: "密码已修改，您在其他浏览器和应用中的登录已退出。",
    profile: "个人资料",
    nick_name: "显示名称",
    avatar: "头像（网址）",
    avatar_rule: "图片的 https:// 地址，或留空。",
    save: "保存",
    profile_saved: "个人资料已保存。",
    linked_accounts: "用于登录的账号",
    last_seen: "最近使用",
    scopes: [
        "确认您的身份（用户 ID）",
        "查看您的姓名、用户名和头像",
        "查看您的电子邮箱",
        "查看您所在的群组",
        "查看您的存储配额",
        "在您离开时保持登录",
    ],
    date_time: "{y}年{m}{d}日 {t}（UTC）",
    months: [
        "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月",
    ],
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

    /// What a scope lets an app do, said to a person (the name itself if it is unknown).
    pub fn scope<'a>(&self, scope: &'a str) -> &'a str {
        KNOWN_SCOPES
            .iter()
            .position(|known| *known == scope)
            .map_or(scope, |i| self.scopes[i])
    }

    /// A time (milliseconds since the epoch) as people of this language write it, in UTC
    /// (the server does not know the reader's zone): `6 Dec 2026, 07:04 UTC`.
    pub fn date_time(&self, ms: i64) -> String {
        let Ok(at) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
            return String::new();
        };
        let month = self.months[usize::from(u8::from(at.month())) - 1];
        self.date_time
            .replace("{y}", &at.year().to_string())
            .replace("{m}", month)
            .replace("{d}", &at.day().to_string())
            .replace("{t}", &format!("{:02}:{:02}", at.hour(), at.minute()))
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

    #[test]
    fn times_and_scopes_read_as_people_write_them() {
        let ms = 1_796_540_640_000; // 2026-12-06T07:04:00Z
        assert_eq!(EN.date_time(ms), "6 Dec 2026, 07:04 UTC");
        assert_eq!(ZH.date_time(ms), "2026年12月6日 07:04（UTC）");
        assert_eq!(EN.scope("email"), "see your e-mail address");
        assert_eq!(ZH.scope("groups"), "查看您所在的群组");
        assert_eq!(EN.scope("unheard-of"), "unheard-of");
    }
}
