//! The load generator's HTTP/1.1 client: one keep-alive connection per worker, driven by
//! hyper's connection-level API. No pool, no URL parsing, no redirect or cookie logic per
//! request (what reqwest does, and what made the generator, not the server, the limit): a
//! request is a method, a pre-parsed path, a few pre-built headers and a body.

use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where requests go, and the headers every request carries.
#[derive(Clone)]
pub struct Endpoint {
    pub address: SocketAddr,
    host: HeaderValue,
}

impl Endpoint {
    /// `base_url` is what the server child printed: `http://127.0.0.1:PORT`.
    pub fn parse(base_url: &str) -> anyhow::Result<Endpoint> {
        let authority = base_url.strip_prefix("http://").unwrap_or(base_url);
        Ok(Endpoint {
            address: authority.parse()?,
            host: HeaderValue::from_str(authority)?,
        })
    }

    pub fn get(&self, path: &Uri) -> Request<Full<Bytes>> {
        self.request(Method::GET, path, Bytes::new())
    }

    /// A JSON `POST`, with `authorization` when given.
    pub fn post_json(
        &self,
        path: &Uri,
        authorization: Option<&HeaderValue>,
        body: Vec<u8>,
    ) -> Request<Full<Bytes>> {
        let mut request = self.request(Method::POST, path, body.into());
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(value) = authorization {
            headers.insert(AUTHORIZATION, value.clone());
        }
        request
    }

    /// A form `POST` (`oauth/token`).
    pub fn post_form(&self, path: &Uri, form: &[(&str, &str)]) -> Request<Full<Bytes>> {
        let body = serde_urlencoded::to_string(form).unwrap_or_default();
        let mut request = self.request(Method::POST, path, body.into());
        request.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        request
    }

    fn request(&self, method: Method, path: &Uri, body: Bytes) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        // Uri is reference-counted inside: a clone copies no text.
        *request.uri_mut() = path.clone();
        request.headers_mut().insert(HOST, self.host.clone());
        request
    }
}

/// One keep-alive connection. A transport error drops it; the next request opens a new one,
/// so one reset does not end a worker's run.
pub struct Connection {
    address: SocketAddr,
    live: Option<Live>,
}

/// hyper's two halves of an HTTP/1.1 connection: the handle requests go through, and the
/// future that does the connection's reads and writes. The worker's own task polls both
/// (instead of spawning the second): no hand-off between tasks or threads per request,
/// which cost the generator more CPU than hyper's own work.
struct Live {
    sender: SendRequest<Full<Bytes>>,
    driver: Pin<Box<hyper::client::conn::http1::Connection<TokioIo<TcpStream>, Full<Bytes>>>>,
}

impl Connection {
    pub async fn open(address: SocketAddr) -> Result<Connection, String> {
        Ok(Connection {
            address,
            live: Some(handshake(address).await?),
        })
    }

    /// Sends `request` and reads the whole answer; `Err` for a transport error or a non-2xx
    /// status (with the start of its body, to say why).
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Bytes, String> {
        let Live { sender, driver } = self.live().await?;
        let exchange = exchange(sender, request);
        let result = tokio::select! {
            // The exchange first: the driver ends only when the connection does.
            biased;
            answer = exchange => answer,
            ended = driver.as_mut() => Err(Failure::Transport(format!(
                "transport: the connection closed ({ended:?})"
            ))),
        };
        match result {
            Err(Failure::Transport(e)) => {
                self.live = None;
                Err(e)
            }
            Err(Failure::Status(e)) => Err(e),
            Ok(body) => Ok(body),
        }
    }
}

impl Connection {
    /// The open connection, opened first if there is none.
    async fn live(&mut self) -> Result<&mut Live, String> {
        if self.live.is_none() {
            let live = handshake(self.address)
                .await
                .map_err(|e| format!("transport: {e}"))?;
            self.live = Some(live);
        }
        self.live
            .as_mut()
            .ok_or_else(|| "transport: no connection".to_owned())
    }

    /// Sends `request` and answers its status, headers and body whatever the status (the
    /// sign-in scenarios read redirects and cookies).
    pub async fn send_full(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<(hyper::StatusCode, hyper::HeaderMap, Bytes), String> {
        let Live { sender, driver } = self.live().await?;
        let answer = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>((parts.status, parts.headers, body))
        };
        let result = tokio::select! {
            biased;
            answer = answer => answer.map_err(|e| format!("transport: {e}")),
            ended = driver.as_mut() => Err(format!("transport: the connection closed ({ended:?})")),
        };
        if result.is_err() {
            self.live = None;
        }
        result
    }
}

async fn handshake(address: SocketAddr) -> Result<Live, String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    // Requests are one small write each; Nagle would hold the next one back.
    stream
        .set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY: {e}"))?;
    let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    Ok(Live {
        sender,
        driver: Box::pin(driver),
    })
}

enum Failure {
    /// The connection is unusable: open another.
    Transport(String),
    /// A non-2xx answer: the connection is fine.
    Status(String),
}

async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<Bytes, Failure> {
    let transport = |e: hyper::Error| Failure::Transport(format!("transport: {e}"));
    // The previous answer is read, but the connection may not have gone idle yet.
    sender.ready().await.map_err(transport)?;
    let response = sender.send_request(request).await.map_err(transport)?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(transport)?
        .to_bytes();
    if status.is_success() {
        Ok(body)
    } else {
        let text = String::from_utf8_lossy(&body);
        Err(Failure::Status(format!(
            "{status}: {}",
            text.chars().take(200).collect::<String>()
        )))
    }
}
