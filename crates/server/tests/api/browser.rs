//! A browser for the pages' tests (sign-in, console): keeps cookies, follows no redirects,
//! sends the headers a browser sends with a form (`Origin`, `Sec-Fetch-Site`), reads fields.

use std::collections::HashMap;

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::helpers::TestApp;

/// A browser: keeps cookies, follows no redirects.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
    pub language: &'static str,
}

/// A page or redirect as the browser got it.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .unwrap_or_else(|| panic!("no redirect ({}): {}", self.status, self.body))
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// The value of the form field `name` (first one), HTML entities decoded.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        let end = start + self.body[start..].find('"').unwrap();
        unescape(&self.body[start..end])
    }

    /// The query parameter `name` of the redirect.
    pub fn redirect_param(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&self.location()).unwrap();
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').map(|e| i + e).unwrap();
        let entity = &rest[i + 1..end];
        let c = match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            n if n.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&n[2..], 16).unwrap()).unwrap()
            }
            n if n.starts_with('#') => char::from_u32(n[1..].parse().unwrap()).unwrap(),
            other => panic!("entity {other}"),
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.address.clone(),
            cookies: HashMap::new(),
            language: "en",
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn keep(&mut self, response: reqwest::Response) -> Answer {
        for value in response.headers().get_all(SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path_and_query: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.language)
            .header("sec-fetch-site", "none")
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    /// A form post from this site (the browser's `Origin` and `Sec-Fetch-Site`).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.post_from(path, form, &self.base.clone(), "same-origin")
            .await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        origin: &str,
        site: &str,
    ) -> Answer {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.language)
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    /// A `multipart/form-data` post (a file upload) from `origin` with `Sec-Fetch-Site: site`:
    /// each field a `(name, file name if a file, content)`.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, Option<&str>, &[u8])],
        origin: &str,
        site: &str,
    ) -> Answer {
        let boundary = "roster-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, file, content) in fields {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let disposition = match file {
                Some(file) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: text/csv\r\n\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.language)
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    /// Follows `answer`'s redirects within this site (a path, or an address under the
    /// server's), at most 10.
    pub async fn follow(&mut self, mut answer: Answer) -> Answer {
        for _ in 0..10 {
            if !answer.status.is_redirection() {
                break;
            }
            let to = answer.location();
            let path = to.strip_prefix(&self.base).unwrap_or(&to).to_owned();
            if !path.starts_with('/') {
                break;
            }
            answer = self.get(&path).await;
        }
        answer
    }

    /// Opens the console in a browser signed in already: `/console` goes through the code
    /// flow (`/v2/oauth/authorize`, the callback) to its first page, which is answered.
    pub async fn enter_console(&mut self) -> Answer {
        let first = self.get("/console").await;
        self.follow(first).await
    }

    /// Fills in and sends the sign-in form of `page`.
    pub async fn sign_in(&mut self, page: &Answer, username: &str, password: &str) -> Answer {
        let (csrf, q) = (page.field("csrf"), page.field("q"));
        self.post(
            "/signin",
            &[
                ("csrf", &csrf),
                ("q", &q),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Answers the consent page `page` with `decision`.
    pub async fn consent(&mut self, page: &Answer, decision: &str) -> Answer {
        let (csrf, q) = (page.field("csrf"), page.field("q"));
        self.post(
            "/v2/oauth/authorize",
            &[("csrf", &csrf), ("q", &q), ("decision", decision)],
        )
        .await
    }
}
