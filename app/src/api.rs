//! Calls to the HTTP API from the browser (`gloo_net::http`, same origin,
//! cookies included). Errors are the protocol's typed [`ErrorPayload`].

use protocol::{ErrorCode, ErrorPayload};
use serde::de::DeserializeOwned;

/// POSTs `body` as JSON to `path` and decodes the JSON answer; a non-2xx
/// answer becomes its error body. Empty 2xx bodies decode from `null`.
#[cfg(feature = "hydrate")]
pub async fn post_json<B: serde::Serialize, R: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<R, ErrorPayload> {
    send_json(gloo_net::http::Request::post(path), body).await
}

/// PUTs `body` as JSON to `path` (see [`post_json`]).
#[cfg(feature = "hydrate")]
pub async fn put_json<B: serde::Serialize, R: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<R, ErrorPayload> {
    send_json(gloo_net::http::Request::put(path), body).await
}

#[cfg(feature = "hydrate")]
async fn send_json<B: serde::Serialize, R: DeserializeOwned>(
    builder: gloo_net::http::RequestBuilder,
    body: &B,
) -> Result<R, ErrorPayload> {
    let request = api_request(builder)
        .json(body)
        .map_err(|e| network(&e.to_string()))?;
    fetch_json(request).await
}

/// GETs `path` and decodes the JSON answer (see [`post_json`]).
#[cfg(feature = "hydrate")]
pub async fn get_json<R: DeserializeOwned>(path: &str) -> Result<R, ErrorPayload> {
    let request = api_request(gloo_net::http::Request::get(path))
        .build()
        .map_err(|_| network("bad request"))?;
    fetch_json(request).await
}

#[cfg(feature = "hydrate")]
fn network(what: &str) -> ErrorPayload {
    ErrorPayload::new(ErrorCode::Internal, format!("network error: {what}"))
}

/// What every call sets: the session cookie goes along (same origin only),
/// and the answer is asked for as JSON.
#[cfg(feature = "hydrate")]
fn api_request(builder: gloo_net::http::RequestBuilder) -> gloo_net::http::RequestBuilder {
    builder
        .credentials(web_sys::RequestCredentials::SameOrigin)
        .header("accept", "application/json")
}

/// Sends `request` and decodes its answer; the body is read as text first,
/// so an error status keeps its typed body (or gets a generic one).
#[cfg(feature = "hydrate")]
async fn fetch_json<R: DeserializeOwned>(
    request: gloo_net::http::Request,
) -> Result<R, ErrorPayload> {
    let response = request
        .send()
        .await
        .map_err(|_| network("the server cannot be reached"))?;
    let text = response.text().await.unwrap_or_default();
    decode_answer(response.status(), &text)
}

/// Turns a status and body into the typed result.
pub fn decode_answer<R: DeserializeOwned>(status: u16, text: &str) -> Result<R, ErrorPayload> {
    let body = if text.trim().is_empty() { "null" } else { text };
    if (200..300).contains(&status) {
        serde_json::from_str(body)
            .map_err(|e| ErrorPayload::new(ErrorCode::Internal, format!("unexpected answer: {e}")))
    } else {
        Err(
            serde_json::from_str::<ErrorPayload>(body).unwrap_or_else(|_| {
                ErrorPayload::new(ErrorCode::Internal, format!("the server answered {status}"))
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_decode_to_values_or_typed_errors() {
        let ok: Result<Option<u8>, _> = decode_answer(204, "");
        assert_eq!(ok, Ok(None));
        let err: Result<(), _> = decode_answer(
            400,
            r#"{"code":"invalid","message":"username: too short","field":"username"}"#,
        );
        let err = err.unwrap_err();
        assert_eq!(
            (err.code, err.field.as_deref()),
            (ErrorCode::Invalid, Some("username"))
        );
        let opaque: Result<(), _> = decode_answer(502, "<html>bad gateway</html>");
        assert_eq!(opaque.unwrap_err().code, ErrorCode::Internal);
    }
}
