//! Every JSON example in `docs/protocol.md` is checked against the types:
//! ` ```json client ` and ` ```json server ` blocks must decode and re-encode to
//! the same JSON value; ` ```json reject CODE ` blocks must be refused with CODE;
//! ` ```json http BODY ` blocks (HTTP bodies) must decode as the named type
//! and re-encode to the same JSON value.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

use protocol::{ClientEnvelope, ServerEnvelope};
use serde_json::Value;

const DOC: &str = include_str!("../../docs/protocol.md");

struct Example {
    info: String,
    body: String,
    line: usize,
}

fn examples() -> Vec<Example> {
    let mut out = Vec::new();
    let mut current: Option<Example> = None;
    for (n, line) in DOC.lines().enumerate() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) if info.starts_with("json") => {
                current = Some(Example {
                    info: info.trim().to_owned(),
                    body: String::new(),
                    line: n + 1,
                });
            }
            (Some(_), Some("")) => out.extend(current.take()),
            (Some(ex), _) => {
                ex.body.push_str(line);
                ex.body.push('\n');
            }
            _ => {}
        }
    }
    out
}

fn same_json(a: &str, b: &str) -> bool {
    let a: Value = serde_json::from_str(a).expect("example is JSON");
    let b: Value = serde_json::from_str(b).expect("encoder output is JSON");
    a == b
}

/// Decodes `json` as the HTTP body type named `body` and encodes it again.
fn http_round_trip(body: &str, json: &str) -> Result<String, String> {
    fn again<T: serde::de::DeserializeOwned + serde::Serialize>(
        json: &str,
    ) -> Result<String, String> {
        let value: T = serde_json::from_str(json).map_err(|e| e.to_string())?;
        serde_json::to_string(&value).map_err(|e| e.to_string())
    }
    match body {
        "search" => again::<protocol::http::SearchPage>(json),
        "thread" => again::<protocol::http::ThreadPage>(json),
        other => Err(format!("no HTTP body type named {other:?}")),
    }
}

#[test]
fn every_doc_example_round_trips_or_is_rejected_as_documented() {
    let examples = examples();
    assert!(
        examples.len() >= 30,
        "found only {} examples",
        examples.len()
    );
    let (mut clients, mut servers, mut rejects, mut https) = (0, 0, 0, 0);
    for ex in &examples {
        let at = format!("docs/protocol.md:{}", ex.line);
        match ex.info.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["json", "client"] => {
                let env = ClientEnvelope::decode(&ex.body)
                    .unwrap_or_else(|e| panic!("{at}: client example refused: {e}"));
                assert!(
                    same_json(&ex.body, &env.encode()),
                    "{at}: re-encoded differs: {}",
                    env.encode()
                );
                clients += 1;
            }
            ["json", "server"] => {
                let env = ServerEnvelope::decode(&ex.body)
                    .unwrap_or_else(|e| panic!("{at}: server example refused: {e}"));
                assert!(
                    same_json(&ex.body, &env.encode()),
                    "{at}: re-encoded differs: {}",
                    env.encode()
                );
                servers += 1;
            }
            ["json", "http", body] => {
                let encoded = http_round_trip(body, &ex.body)
                    .unwrap_or_else(|e| panic!("{at}: {body} example refused: {e}"));
                assert!(
                    same_json(&ex.body, &encoded),
                    "{at}: re-encoded differs: {encoded}"
                );
                https += 1;
            }
            ["json", "reject", code] => {
                let err = ClientEnvelope::decode(&ex.body)
                    .expect_err(&format!("{at}: example should be rejected"));
                assert_eq!(err.code().as_str(), *code, "{at}: {err}");
                rejects += 1;
            }
            other => panic!("{at}: unknown example kind {other:?}"),
        }
    }
    assert!(
        clients >= 10 && servers >= 15 && rejects >= 5 && https >= 3,
        "{clients}/{servers}/{rejects}/{https}"
    );
}

#[test]
fn the_shared_contract_example_is_in_the_doc() {
    // The one complete frame of shared/protocol-v1.md, verbatim.
    let contract = r#"{ "type": "chat:send", "id": "01JD4Z8Q6V7H2M3N4P5R6S7T8V", "payload": { "room": "general", "text": "hello" } }"#;
    assert!(DOC.contains(contract));
    let env = ClientEnvelope::decode(contract).expect("contract example decodes");
    // type first, id second, as the contract asks of writers.
    assert!(env
        .encode()
        .starts_with(r#"{"type":"chat:send","id":"01JD4Z8Q6V7H2M3N4P5R6S7T8V","payload""#));
}
