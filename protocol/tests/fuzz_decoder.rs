//! Property tests: the decoder never panics and always answers with a typed
//! result, whatever bytes arrive. Runs briefly in CI (PROPTEST_CASES to widen).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

use proptest::prelude::*;
use protocol::{ClientEnvelope, ErrorCode};

fn envelope_like() -> impl Strategy<Value = String> {
    let kinds = prop_oneof![
        Just("room:join".to_owned()),
        Just("chat:send".to_owned()),
        Just("chat:history".to_owned()),
        Just("notification:read".to_owned()),
        Just("ping".to_owned()),
        "[a-z:]{0,12}",
    ];
    let ids = prop_oneof![Just(None), "[A-Za-z0-9_ -]{0,70}".prop_map(Some)];
    let values = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        "\\PC{0,20}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just(r#"{"room":"general","text":"hi"}"#.to_owned()),
        Just("[1,2]".to_owned()),
    ];
    let fields = prop::collection::vec(
        (
            prop_oneof![
                Just("room"),
                Just("text"),
                Just("since_seq"),
                Just("limit"),
                Just("ids"),
                Just("t"),
                Just("x")
            ],
            values.clone(),
        ),
        0..5,
    );
    (kinds, ids, fields).prop_map(|(kind, id, fields)| {
        let payload: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!(r#""{k}":{v}"#))
            .collect();
        let id = id
            .map(|i| format!(r#","id":{}"#, serde_json::to_string(&i).unwrap()))
            .unwrap_or_default();
        format!(
            r#"{{"type":"{kind}"{id},"payload":{{{}}}}}"#,
            payload.join(",")
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        if let Err(e) = ClientEnvelope::decode(&text) {
            prop_assert!(!e.payload.message.is_empty());
        }
    }

    #[test]
    fn envelope_shaped_input_gets_a_typed_answer(text in envelope_like()) {
        match ClientEnvelope::decode(&text) {
            Ok(env) => {
                // Whatever decodes re-encodes and decodes to the same message.
                prop_assert_eq!(ClientEnvelope::decode(&env.encode()).unwrap(), env);
            }
            Err(e) => {
                prop_assert!(matches!(e.code(), ErrorCode::BadFrame | ErrorCode::UnknownType | ErrorCode::Invalid));
                if e.code() == ErrorCode::Invalid {
                    prop_assert!(e.payload.field.is_some(), "invalid without a field: {}", e);
                }
            }
        }
    }
}
