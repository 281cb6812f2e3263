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
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("send the request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the response");
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

/// [`login`], blocking (call it off the runtime).
pub fn login_blocking(addr: SocketAddr, login: &str, password: &str) -> String {
    let body = form(&[("login", login), ("password", password)]);
    let reply = http(addr, "POST", "/connexion", &[], &body);
    reply.cookie().unwrap_or_else(|| {
        panic!(
            "no session cookie for {login}: {} {}",
            reply.status, reply.body
        )
    })
}
