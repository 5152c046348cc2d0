//! The bundle is served from its precompressed siblings (brotli, gzip or
//! plain, as the client accepts), content-hashed files are cached forever
//! and pages are revalidated; pages name the hashed files and are compressed
//! on the fly, while JSON and the SSE stream are never compressed.
//!
//! Each test builds a small site root of its own, laid out as
//! `cargo leptos build --release --precompress` with `hash-files` lays it out.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::TestServer;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const JS_HASH: &str = "JsJsJsJsJsJsJsJsJs-_12";
const WASM_HASH: &str = "WasmWasmWasmWasmWasm12";
const CSS_HASH: &str = "CssCssCssCssCssCssCss1";

/// A site root in the temp directory, removed when dropped.
struct Site {
    root: PathBuf,
    hash_file: PathBuf,
    wasm: Vec<u8>,
}

impl Site {
    /// Writes `pkg/hibiki.<hash>.{js,wasm,css}` with `.br` and `.gz`
    /// siblings, a public `favicon.svg`, and the hash file naming them.
    fn build(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("hibiki-site-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        // Compressible and recognisable, like a real module.
        let wasm: Vec<u8> = (0..4000u32)
            .flat_map(|i| format!("\0asm func_{} ", i % 97).into_bytes())
            .collect();
        let js = "export function hydrate() { return 'hibiki'; }\n".repeat(50);
        let css = "body { color: #123456; }\n".repeat(50);
        let pkg = root.join("pkg");
        precompressed(&pkg.join(format!("hibiki.{WASM_HASH}.wasm")), &wasm);
        precompressed(&pkg.join(format!("hibiki.{JS_HASH}.js")), js.as_bytes());
        precompressed(&pkg.join(format!("hibiki.{CSS_HASH}.css")), css.as_bytes());
        precompressed(
            &root.join("favicon.svg"),
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        );
        let hash_file = root.join("hash.txt");
        std::fs::write(
            &hash_file,
            format!("js: {JS_HASH}\nwasm: {WASM_HASH}\ncss: {CSS_HASH}\n"),
        )
        .unwrap();
        Self {
            root,
            hash_file,
            wasm,
        }
    }

    async fn serve(&self) -> TestServer {
        let (root, hash_file) = (self.root.clone(), self.hash_file.clone());
        TestServer::start_with(move |c| {
            c.site_root = root;
            c.hash_file = hash_file;
        })
        .await
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Writes `path` and its `.br` and `.gz` siblings, as `--precompress` does.
fn precompressed(path: &Path, content: &[u8]) {
    std::fs::write(path, content).unwrap();
    let mut br = Vec::new();
    brotli::CompressorWriter::new(&mut br, 4096, 11, 22)
        .write_all(content)
        .unwrap();
    std::fs::write(format!("{}.br", path.display()), br).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(content).unwrap();
    std::fs::write(format!("{}.gz", path.display()), gz.finish().unwrap()).unwrap();
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn ungzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// `GET path` with `Accept-Encoding: accept` (none if `None`); reqwest
/// here decodes nothing, so the body is what went over the wire.
async fn fetch(
    server: &TestServer,
    path: &str,
    accept: Option<&str>,
) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = reqwest::Client::new().get(server.url(path));
    if let Some(accept) = accept {
        req = req.header(ACCEPT_ENCODING, accept);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{path} ({accept:?})");
    let headers = res.headers().clone();
    (headers, res.bytes().await.unwrap().to_vec())
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn the_bundle_is_served_from_its_precompressed_files() {
    let site = Site::build("encodings");
    let server = site.serve().await;
    let path = format!("/pkg/hibiki.{WASM_HASH}.wasm");
    let on_disk = |ext: &str| {
        std::fs::read(
            site.root
                .join("pkg")
                .join(format!("hibiki.{WASM_HASH}.wasm.{ext}")),
        )
        .unwrap()
    };

    // Brotli when accepted (and preferred over gzip): the very bytes of the
    // .br file, so nothing was compressed for this request.
    for accept in ["br", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8"] {
        let (headers, body) = fetch(&server, &path, Some(accept)).await;
        assert_eq!(header(&headers, "content-encoding"), Some("br"), "{accept}");
        assert_eq!(header(&headers, "content-type"), Some("application/wasm"));
        assert_eq!(body, on_disk("br"), "{accept}");
        assert_eq!(unbrotli(&body), site.wasm);
    }

    // Gzip when that is all the client takes.
    let (headers, body) = fetch(&server, &path, Some("gzip")).await;
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert_eq!(body, on_disk("gz"));
    assert_eq!(ungzip(&body), site.wasm);

    // The plain file otherwise.
    for accept in [None, Some("identity"), Some("deflate")] {
        let (headers, body) = fetch(&server, &path, accept).await;
        assert_eq!(
            header(&headers, CONTENT_ENCODING.as_str()),
            None,
            "{accept:?}"
        );
        assert_eq!(body, site.wasm, "{accept:?}");
    }

    // A public asset outside /pkg is precompressed too.
    let (headers, body) = fetch(&server, "/favicon.svg", Some("br")).await;
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    assert_eq!(
        unbrotli(&body),
        b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    );

    // An unknown bundle file is a 404, not a page.
    let res = reqwest::get(server.url("/pkg/hibiki.nope.wasm"))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn hashed_files_are_immutable_and_everything_else_is_revalidated() {
    let site = Site::build("caching");
    let server = site.serve().await;
    for name in [
        format!("hibiki.{WASM_HASH}.wasm"),
        format!("hibiki.{JS_HASH}.js"),
        format!("hibiki.{CSS_HASH}.css"),
    ] {
        for accept in [None, Some("br")] {
            let (headers, _) = fetch(&server, &format!("/pkg/{name}"), accept).await;
            assert_eq!(
                header(&headers, CACHE_CONTROL.as_str()),
                Some("public, max-age=31536000, immutable"),
                "{name} ({accept:?})"
            );
        }
    }
    // Not content-hashed: may change under the same name.
    let (headers, _) = fetch(&server, "/favicon.svg", None).await;
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    let (headers, _) = fetch(&server, "/health", None).await;
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    server.stop().await;
}

#[tokio::test]
async fn pages_name_the_hashed_files_and_are_compressed_on_the_fly() {
    if app::SSR_AND_HYDRATE_UNIFIED {
        eprintln!("skipped: app built with ssr+hydrate unified; run `cargo test -p server`");
        return;
    }
    let site = Site::build("pages");
    let server = site.serve().await;

    let (headers, body) = fetch(&server, "/login", None).await;
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    assert_eq!(header(&headers, "content-encoding"), None);
    let html = String::from_utf8(body).unwrap();
    assert!(
        html.contains(&format!("/pkg/hibiki.{CSS_HASH}.css")),
        "{html}"
    );
    assert!(
        html.contains(&format!("/pkg/hibiki.{WASM_HASH}.wasm")),
        "{html}"
    );
    assert!(html.contains(&format!("\"hibiki.{JS_HASH}\"")), "{html}");
    // The hydration script still carries the request's CSP nonce.
    let csp = header(&headers, "content-security-policy").unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    assert!(
        html.contains(&format!(r#"<script type="module" nonce="{nonce}">"#)),
        "{html}"
    );

    // The same page compressed, per the client's preference.
    let (headers, body) = fetch(&server, "/login", Some("gzip, br")).await;
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    let page = String::from_utf8(unbrotli(&body)).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains(&format!("/pkg/hibiki.{WASM_HASH}.wasm")));
    let (headers, body) = fetch(&server, "/login", Some("gzip")).await;
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert!(String::from_utf8(ungzip(&body))
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
    server.stop().await;
}

#[tokio::test]
async fn json_and_the_event_stream_are_not_compressed() {
    let site = Site::build("streams");
    let server = site.serve().await;
    let token = server.register("ayumi").await;
    let http = reqwest::Client::new();

    let res = http
        .get(server.url("/api/rooms"))
        .bearer_auth(&token)
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get(CONTENT_ENCODING), None);
    let _: serde_json::Value = res.json().await.unwrap();

    // The stream's headers arrive at once and nothing buffers its events:
    // the first event (the unread count) is readable as plain text.
    let mut res = http
        .get(server.url("/api/events"))
        .bearer_auth(&token)
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get(CONTENT_TYPE).unwrap(),
        "text/event-stream"
    );
    assert_eq!(res.headers().get(CONTENT_ENCODING), None);
    let first = tokio::time::timeout(common::DEADLOCK_GUARD, res.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(first.to_vec()).unwrap();
    assert!(text.contains("event: unread"), "{text}");
    drop(res);
    server.stop().await;
}

#[tokio::test]
async fn a_hash_file_naming_missing_files_is_ignored() {
    if app::SSR_AND_HYDRATE_UNIFIED {
        eprintln!("skipped: app built with ssr+hydrate unified; run `cargo test -p server`");
        return;
    }
    let site = Site::build("stale");
    // An older build's hash file: its wasm is not in the site root.
    std::fs::write(
        &site.hash_file,
        format!("js: {JS_HASH}\nwasm: OlderOlderOlderOlder12\ncss: {CSS_HASH}\n"),
    )
    .unwrap();
    let server = site.serve().await;
    let (_, body) = fetch(&server, "/login", None).await;
    let html = String::from_utf8(body).unwrap();
    assert!(!html.contains("OlderOlderOlderOlder12"), "{html}");
    assert!(html.contains("/pkg/hibiki.css"), "{html}");
    server.stop().await;
}

/// Every rule of the stylesheet is closed. An unclosed one (a merge once
/// dropped a `}`) does not fail the build: browsers with CSS nesting read
/// every later rule as nested inside it, so they silently stop applying.
#[test]
fn the_stylesheet_closes_every_rule() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../style/main.css");
    let css = std::fs::read_to_string(&path).expect("style/main.css");
    let mut depth = 0i64;
    let mut in_comment = false;
    let mut chars = css.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (in_comment, c) {
            (_, '\n') => line += 1,
            (false, '/') if chars.peek() == Some(&'*') => {
                chars.next();
                in_comment = true;
            }
            (true, '*') if chars.peek() == Some(&'/') => {
                chars.next();
                in_comment = false;
            }
            (false, '{') => depth += 1,
            (false, '}') => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "an extra '}}' at line {line}");
        // Hibiki's CSS nests only inside `@media` blocks: two levels.
        assert!(depth <= 2, "a rule opened inside another at line {line}");
    }
    assert_eq!(depth, 0, "unclosed rules at the end");
    assert!(!in_comment, "an unclosed comment");
}
