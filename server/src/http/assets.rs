//! The built site's static files and the caching and compression of every
//! response.
//!
//! `cargo leptos build --release --precompress` writes the bundle once: the
//! wasm, js and css under `/pkg` carry a content hash in their names
//! (`hash-files = true`, the names listed in the hash file) and every file
//! has `.br` and `.gz` siblings. So nothing static is compressed per request:
//! [`pkg_service`] picks the sibling the `Accept-Encoding` asks for, and a
//! hashed name can be cached forever because new content gets a new name.
//! Pages are rendered per request and revalidated every time; their HTML is
//! compressed on the fly (cheap at brotli's quality 4), and nothing else is.

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::path::{Path, PathBuf};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// The URL prefix of the bundle (cargo-leptos's `site-pkg-dir`).
pub(crate) const PKG_DIR: &str = "pkg";
/// The bundle's file stem (cargo-leptos's `output-name`, the project name).
pub(crate) const OUTPUT_NAME: &str = "hibiki";

/// Length of cargo-leptos's content hash in a file name: an MD5 digest in
/// unpadded base64url.
const HASH_LEN: usize = 22;

/// A content-hashed file never changes under its name.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Anything else may be stored but is checked with the server before use.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// `/pkg/*` from `<site root>/pkg`, from the precompressed sibling when the
/// client accepts it (brotli preferred), with `Last-Modified`, conditional
/// and range requests handled by `ServeDir`.
pub(crate) fn pkg_service(site_root: &Path) -> ServeDir {
    ServeDir::new(site_root.join(PKG_DIR))
        .precompressed_br()
        .precompressed_gzip()
}

/// Compresses rendered pages (`text/html`) only. Static files arrive already
/// encoded and are skipped (a response with `Content-Encoding` is never
/// encoded twice); JSON, the SSE stream and the WebSocket upgrade are left
/// alone so that events are never held back in a compressor's buffer.
pub(crate) fn html_compression() -> CompressionLayer<impl Predicate> {
    // Only the `compression-br` and `compression-gzip` features are built.
    CompressionLayer::new().compress_when(SizeAbove::new(256).and(OnlyHtml))
}

/// A compression predicate: true for `text/html` responses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OnlyHtml;

impl Predicate for OnlyHtml {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        is_html(response.headers().get(CONTENT_TYPE))
    }
}

fn is_html(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/html"))
}

/// Sets `Cache-Control`: immutable for content-hashed bundle files, `no-cache`
/// for every other response that did not choose its own (pages, API answers,
/// unhashed files such as the favicon). The WebSocket upgrade is untouched.
pub(crate) async fn cache_control(req: Request, next: Next) -> Response {
    let hashed = is_hashed_bundle_path(req.uri().path());
    let mut res = next.run(req).await;
    if res.status() == StatusCode::SWITCHING_PROTOCOLS {
        return res;
    }
    let ok = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let h = res.headers_mut();
    if hashed && ok {
        h.insert(CACHE_CONTROL, IMMUTABLE);
    } else if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, REVALIDATE);
    }
    res
}

/// `/pkg/<stem>.<hash>.<ext>` as cargo-leptos names a hashed file. Only the
/// bundle directory is considered: a public asset is never renamed.
fn is_hashed_bundle_path(path: &str) -> bool {
    let Some(name) = path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(PKG_DIR))
        .and_then(|p| p.strip_prefix('/'))
    else {
        return false;
    };
    let mut parts = name.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && hash.len() == HASH_LEN
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The hash file that names the current bundle, if the build wrote one.
///
/// cargo-leptos writes it next to the server binary (`target/release/hash.txt`
/// for `cargo leptos build --release`), and Leptos resolves its name against
/// that directory, so a relative `configured` name is taken from there too;
/// an absolute one is used as is. Leptos re-reads the file for every page,
/// which keeps `cargo leptos watch` right across front-end rebuilds.
pub(crate) fn find_hash_file(configured: &Path, site_root: &Path) -> Option<PathBuf> {
    let path = if configured.is_absolute() {
        configured.to_path_buf()
    } else {
        let exe_dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
        exe_dir.join(configured)
    };
    let text = std::fs::read_to_string(&path).ok()?;
    // A hash file from an older build names files that are gone: pages would
    // point at them and never hydrate. Say so instead of serving that.
    let missing: Vec<String> = hashed_names(&text)
        .filter(|name| !site_root.join(PKG_DIR).join(name).is_file())
        .collect();
    if missing.is_empty() {
        Some(path)
    } else {
        tracing::warn!(
            hash_file = %path.display(),
            site_root = %site_root.display(),
            ?missing,
            "the hash file names bundle files the site root does not have; \
             serving unhashed names (rebuild with `cargo leptos build`)"
        );
        None
    }
}

/// The bundle file names a hash file gives (`js: <hash>` → `hibiki.<hash>.js`).
fn hashed_names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|line| {
        let (ext, hash) = line.split_once(':')?;
        let ext = ext.trim();
        matches!(ext, "js" | "wasm" | "css").then(|| format!("{OUTPUT_NAME}.{}.{ext}", hash.trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_bundle_names_count_as_hashed() {
        assert!(is_hashed_bundle_path(
            "/pkg/hibiki.AbCdEfGhIjKlMnOpQrSt-_.wasm"
        ));
        assert!(is_hashed_bundle_path(
            "/pkg/hibiki.AbCdEfGhIjKlMnOpQrSt12.js"
        ));
        // Unhashed names, other directories, wrong lengths and characters.
        assert!(!is_hashed_bundle_path("/pkg/hibiki.wasm"));
        assert!(!is_hashed_bundle_path("/pkg/hibiki.js.br"));
        assert!(!is_hashed_bundle_path(
            "/favicon.AbCdEfGhIjKlMnOpQrSt12.svg"
        ));
        assert!(!is_hashed_bundle_path(
            "/pkg/hibiki.AbCdEfGhIjKlMnOpQrSt1.js"
        ));
        assert!(!is_hashed_bundle_path(
            "/pkg/hibiki.AbCdEfGhIjKlMnOpQrSt1!.js"
        ));
        assert!(!is_hashed_bundle_path("/pkg/.AbCdEfGhIjKlMnOpQrSt12.js"));
        assert!(!is_hashed_bundle_path(
            "/pkgx/hibiki.AbCdEfGhIjKlMnOpQrSt12.js"
        ));
    }

    #[test]
    fn a_hash_file_names_the_three_bundle_files() {
        let text = "js: aaa\nwasm: bbb\ncss: ccc\nmanifest: ddd\n";
        let names: Vec<String> = hashed_names(text).collect();
        assert_eq!(
            names,
            ["hibiki.aaa.js", "hibiki.bbb.wasm", "hibiki.ccc.css"]
        );
    }

    #[test]
    fn only_html_is_compressed_on_the_fly() {
        let html = HeaderValue::from_static("text/html; charset=utf-8");
        assert!(is_html(Some(&html)));
        for other in ["application/json", "text/event-stream", "application/wasm"] {
            assert!(!is_html(Some(&HeaderValue::from_static(other))), "{other}");
        }
        assert!(!is_html(None));
    }
}
