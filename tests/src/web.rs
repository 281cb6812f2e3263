//! The dashboard over real HTTP on loopback, for the web suites: start it, and a tiny
//! blocking HTTP/1.1 client with the form encoding and the cookie and CSRF token reading the
//! tests need.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use commune_controller::Controller;

/// Serves the dashboard of `controller` on a free loopback port; returns its address.
pub async fn serve_dashboard(controller: Controller) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the dashboard");
    let addr = listener.local_addr().expect("dashboard address");
    tokio::spawn(commune_dashboard::serve(
        listener,
        controller,
        std::future::pending(),
    ));
    addr
}

/// A response: status, headers (lower-cased, for matching), body.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The head, lower-cased.
    pub headers: String,
    /// The body, as sent (chunked bodies are not decoded).
    pub body: String,
}

impl Reply {
    /// The value of the first `Set-Cookie` (name=value, attributes dropped).
    pub fn cookie(&self) -> Option<String> {
        self.set_cookie()
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    }

    /// The first `Set-Cookie` header, whole (lower-cased).
    pub fn set_cookie(&self) -> Option<&str> {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
    }

    /// The value of the first header named `name` (lower-case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim())
        })
    }

    /// The CSRF token of the first form of the page.
    pub fn csrf(&self) -> Option<String> {
        self.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(str::to_owned)
    }
}

/// One HTTP/1.1 request on a fresh connection (blocking: call it off the runtime).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    http_as(addr, &addr.to_string(), method, path, headers, body)
}

/// [`http`] naming another `Host` than the address connected to (DNS rebinding).
pub fn http_as(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let form = (method == "POST").then_some("application/x-www-form-urlencoded");
    exchange(addr, host, method, path, headers, form, body)
}

/// One request with a body of the given content type (none: no body headers), on a fresh
/// connection (blocking: call it off the runtime): the API's JSON requests and their
/// malformed variants.
pub fn http_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_type: Option<&str>,
    body: &str,
) -> Reply {
    exchange(
        addr,
        &addr.to_string(),
        method,
        path,
        headers,
        content_type,
        body,
    )
}

/// One request on a fresh connection and its reply (status 0 when none came).
fn exchange(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_type: Option<&str>,
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(content_type) = content_type {
        req.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    if content_type.is_some() || !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    // The server may answer (413) before reading a large body: a failed write is its answer.
    let _ = stream.write_all(req.as_bytes());
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers: head.to_lowercase(),
        body: body.to_string(),
    }
}

/// `application/x-www-form-urlencoded` of the pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Logs `login` in with `password` through the login form; returns the session cookie.
pub async fn login(addr: SocketAddr, login: &str, password: &str) -> String {
    let (login, password) = (login.to_owned(), password.to_owned());
    tokio::task::spawn_blocking(move || login_blocking(addr, &login, &password))
        .await
        .expect("login request")
}

/// [`login`], blocking (call it off the runtime). Told the service is busy (503), it tries
/// again after the `Retry-After` it was given, as the page asks a person to.
pub fn login_blocking(addr: SocketAddr, login: &str, password: &str) -> String {
    let mut reply = post_login(addr, &[], login, password);
    for _ in 0..30 {
        if reply.status != 503 {
            break;
        }
        let wait = reply
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1u64);
        std::thread::sleep(std::time::Duration::from_secs(wait.min(5)));
        reply = post_login(addr, &[], login, password);
    }
    reply.cookie().unwrap_or_else(|| {
        panic!(
            "no session cookie for {login}: {} {}",
            reply.status, reply.body
        )
    })
}

/// The login page's CSRF cookie (`name=value`, for a `Cookie` header) and the token of its
/// form, as a browser gets them with `GET /connexion`.
pub fn login_page(addr: SocketAddr, headers: &[(&str, &str)]) -> (String, String) {
    let page = http(addr, "GET", "/connexion", headers, "");
    let cookie = page
        .cookie()
        .filter(|c| c.starts_with("commune_login_csrf="))
        .unwrap_or_else(|| panic!("no login CSRF cookie: {}", page.headers));
    let token = page.csrf().expect("a CSRF token in the login form");
    (cookie, token)
}

/// Posts the login form as a browser does: the page first (its CSRF cookie and token),
/// then the form with `headers` added to both requests. One try: the reply as it comes.
pub fn post_login(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    login: &str,
    password: &str,
) -> Reply {
    let (cookie, token) = login_page(addr, headers);
    let merged;
    let mut with_cookie: Vec<(&str, &str)> = headers.to_vec();
    match with_cookie
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case("cookie"))
    {
        Some(existing) => {
            merged = format!("{}; {cookie}", existing.1);
            existing.1 = &merged;
        }
        None => with_cookie.push(("Cookie", &cookie)),
    }
    let body = form(&[("csrf", &token), ("login", login), ("password", password)]);
    http(addr, "POST", "/connexion", &with_cookie, &body)
}
