//! A fault-injecting HTTP/1.1 proxy of our own on 127.0.0.1, in front of a real registry.
//! No installable registry misbehaves on demand (429 with Retry-After, 503, dropped connections,
//! oversized or truncated answers, stalls, off-host Link headers), so this small server does it,
//! forwarding everything else unchanged. One request per connection (`Connection: close`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Rewrites the head of an upstream answer.
pub type HeadRewrite = Box<dyn Fn(&str) -> String + Send + Sync>;

/// What to do with one request.
pub enum Action {
    Forward,
    /// Answer with this status, headers and body.
    Respond(u16, Vec<(String, String)>, Vec<u8>),
    /// Close the connection without answering.
    Drop,
    /// Wait, then forward.
    Delay(Duration),
    /// Forward, but change the upstream answer's headers.
    RewriteHeaders(HeadRewrite),
    /// Forward with this extra request header line (`Name: value`).
    ForwardWithHeader(String),
    /// Forward as a request for this other path, and change the upstream answer's headers: a
    /// registry or mirror that serves other bytes than the ones it names.
    ForwardAs(String, HeadRewrite),
}

pub type Rule = Arc<dyn Fn(&str, &str, u64) -> Action + Send + Sync>;

pub struct Proxy {
    pub addr: String,
    stop: Arc<AtomicBool>,
    pub requests: Arc<AtomicU64>,
    pub faults: Arc<AtomicU64>,
    /// Requests that arrived with an Authorization header.
    pub authorized: Arc<AtomicU64>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
    }
}

impl Proxy {
    /// `rule(method, path, n)` decides; `n` counts requests from 0.
    pub fn start(upstream: &str, rule: Rule) -> Proxy {
        Proxy::start_on("127.0.0.1", upstream, rule)
    }

    /// On another loopback address (127.0.0.2 is "another host" for the client).
    pub fn start_on(ip: &str, upstream: &str, rule: Rule) -> Proxy {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU64::new(0));
        let faults = Arc::new(AtomicU64::new(0));
        let authorized = Arc::new(AtomicU64::new(0));
        let (s, r, f, up) = (stop.clone(), requests.clone(), faults.clone(), upstream.to_string());
        let a = authorized.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (rule, r, f, up, a) = (rule.clone(), r.clone(), f.clone(), up.clone(), a.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &up, &rule, &r, &f, &a);
                });
            }
        });
        Proxy { addr, stop, requests, faults, authorized }
    }
}

fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<(String, String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte)? == 0 {
            return Ok(None);
        }
        buf.push(byte[0]);
        if buf.len() > 1 << 20 {
            return Ok(None);
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let (method, path) = (first.next().unwrap_or("").to_string(), first.next().unwrap_or("").to_string());
    let len = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body)?;
    let mut raw = Vec::new();
    // Re-emit the head with Connection: close.
    for (i, line) in head.trim_end_matches("\r\n\r\n").split("\r\n").enumerate() {
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        raw.extend_from_slice(line.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"Connection: close\r\n\r\n");
    raw.extend_from_slice(&body);
    Ok(Some((method, path, raw)))
}

fn serve(
    mut conn: TcpStream,
    upstream: &str,
    rule: &Rule,
    n: &AtomicU64,
    faults: &AtomicU64,
    authorized: &AtomicU64,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let Some((method, path, mut raw)) = read_request(&mut conn)? else { return Ok(()) };
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    if String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase().contains("\r\nauthorization:") {
        authorized.fetch_add(1, Ordering::SeqCst);
    }
    let i = n.fetch_add(1, Ordering::SeqCst);
    let mut rewrite: Option<HeadRewrite> = None;
    match rule(&method, &path, i) {
        Action::Forward => {}
        Action::Drop => {
            faults.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        Action::Delay(d) => {
            faults.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(d);
        }
        Action::Respond(status, headers, body) => {
            faults.fetch_add(1, Ordering::SeqCst);
            let mut out = format!("HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            conn.write_all(out.as_bytes())?;
            if method != "HEAD" {
                conn.write_all(&body)?;
            }
            return Ok(());
        }
        Action::RewriteHeaders(f) => {
            faults.fetch_add(1, Ordering::SeqCst);
            rewrite = Some(f);
        }
        Action::ForwardAs(other, f) => {
            faults.fetch_add(1, Ordering::SeqCst);
            let first_line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap_or(0);
            let line = format!("{method} {other} HTTP/1.1");
            raw.splice(..first_line_end, line.into_bytes());
            rewrite = Some(f);
        }
        Action::ForwardWithHeader(h) => {
            let first_line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap_or(0) + 2;
            raw.splice(first_line_end..first_line_end, format!("{h}\r\n").into_bytes());
        }
    }
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(&raw)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4).unwrap_or(answer.len());
    let mut head = String::from_utf8_lossy(&answer[..split]).to_string();
    if let Some(f) = rewrite {
        head = f(&head);
    }
    let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    conn.write_all(head.as_bytes())?;
    conn.write_all(&answer[split..])?;
    Ok(())
}
