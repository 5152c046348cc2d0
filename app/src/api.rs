//! Calls to the HTTP API from the browser (`fetch`, same origin, cookies
//! included). Errors are the protocol's typed [`ErrorPayload`].

use protocol::{ErrorCode, ErrorPayload};
use serde::de::DeserializeOwned;

/// POSTs `body` as JSON to `path` and decodes the JSON answer; a non-2xx
/// answer becomes its error body. Empty 2xx bodies decode from `null`.
#[cfg(feature = "hydrate")]
pub async fn post_json<B: serde::Serialize, R: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<R, ErrorPayload> {
    let json = serde_json::to_string(body).map_err(|e| network(&e.to_string()))?;
    fetch_json("POST", path, Some(json)).await
}

/// GETs `path` and decodes the JSON answer (see [`post_json`]).
#[cfg(feature = "hydrate")]
pub async fn get_json<R: DeserializeOwned>(path: &str) -> Result<R, ErrorPayload> {
    fetch_json("GET", path, None).await
}

#[cfg(feature = "hydrate")]
fn network(what: &str) -> ErrorPayload {
    ErrorPayload::new(ErrorCode::Internal, format!("network error: {what}"))
}

#[cfg(feature = "hydrate")]
async fn fetch_json<R: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<R, ErrorPayload> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    if let Some(json) = &body {
        init.set_body(&wasm_bindgen::JsValue::from_str(json));
    }
    let request =
        web_sys::Request::new_with_str_and_init(path, &init).map_err(|_| network("bad request"))?;
    let headers = request.headers();
    if body.is_some() {
        headers
            .set("content-type", "application/json")
            .map_err(|_| network("bad header"))?;
    }
    headers
        .set("accept", "application/json")
        .map_err(|_| network("bad header"))?;
    let response = JsFuture::from(leptos::prelude::window().fetch_with_request(&request))
        .await
        .map_err(|_| network("the server cannot be reached"))?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| network("unexpected response"))?;
    let text = JsFuture::from(response.text().map_err(|_| network("unreadable body"))?)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
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
