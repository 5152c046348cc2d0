//! The decoder's contract: every input becomes a typed message or a typed
//! error with the right code, the right field and the request id echoed.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

use protocol::client::{ChatSend, ClientType};
use protocol::server::{Ack, Empty, RoomJoined, Sent};
use protocol::{ClientEnvelope, ClientMsg, ErrorCode, RequestId, RoomName, ServerEnvelope};

fn reject(text: &str) -> protocol::DecodeError {
    ClientEnvelope::decode(text).expect_err(text)
}

#[test]
fn malformed_input_is_bad_frame() {
    for text in [
        "",
        "hello",
        "{",
        "null",
        "42",
        "[]",
        r#"{"id":"a"}"#,
        r#"{"type":5}"#,
    ] {
        let err = reject(text);
        assert_eq!(err.code(), ErrorCode::BadFrame, "{text}: {err}");
        assert_eq!(err.id, None);
    }
}

#[test]
fn unknown_type_echoes_the_id() {
    let err = reject(r#"{"type":"chat:shout","id":"x1","payload":{}}"#);
    assert_eq!(err.code(), ErrorCode::UnknownType);
    assert_eq!(err.id, Some(RequestId::parse("x1").unwrap()));
    assert!(err.payload.message.contains("chat:shout"));
}

#[test]
fn acknowledged_types_require_an_id() {
    for kind in ClientType::ALL.into_iter().filter(|k| k.is_acknowledged()) {
        let text = format!(
            r#"{{"type":"{}","payload":{{"room":"general"}}}}"#,
            kind.as_str()
        );
        let err = reject(&text);
        assert_eq!(err.code(), ErrorCode::Invalid, "{text}");
        assert_eq!(err.payload.field.as_deref(), Some("id"), "{text}");
    }
    // Fire-and-forget types do not.
    assert!(ClientEnvelope::decode(
        r#"{"type":"chat:typing","payload":{"room":"general","typing":true}}"#
    )
    .is_ok());
    assert!(ClientEnvelope::decode(r#"{"type":"ping","payload":{"t":1.5}}"#).is_ok());
}

#[test]
fn room_focus_is_fire_and_forget_with_a_required_nullable_room() {
    use protocol::client::RoomFocus;
    let focus = |room: Option<&str>| {
        ClientMsg::RoomFocus(RoomFocus {
            room: room.map(|r| RoomName::parse(r).unwrap()),
        })
    };
    assert!(!ClientType::RoomFocus.is_acknowledged());
    assert_eq!(
        ClientType::from_wire("room:focus"),
        Some(ClientType::RoomFocus)
    );
    // A room, or null; no id needed, one is accepted (and not answered).
    let cases = [
        (
            r#"{"type":"room:focus","payload":{"room":"dm-1-2"}}"#,
            None,
            focus(Some("dm-1-2")),
        ),
        (
            r#"{"type":"room:focus","payload":{"room":null}}"#,
            None,
            focus(None),
        ),
        (
            r#"{"type":"room:focus","id":"f1","payload":{"room":"general"}}"#,
            Some(RequestId::parse("f1").unwrap()),
            focus(Some("general")),
        ),
    ];
    for (text, id, msg) in cases {
        let env = ClientEnvelope::decode(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(env, ClientEnvelope::new(id, msg), "{text}");
        assert_eq!(
            ClientEnvelope::decode(&env.encode()).unwrap(),
            env,
            "round trip"
        );
    }
    // null is written, not left out: `room` is required on the wire.
    assert_eq!(
        ClientEnvelope::new(None, focus(None)).encode(),
        r#"{"type":"room:focus","payload":{"room":null}}"#
    );
    for (text, field) in [
        (r#"{"type":"room:focus","payload":{}}"#, "room"),
        (
            r#"{"type":"room:focus","payload":{"room":"Bad Room"}}"#,
            "room",
        ),
        (r#"{"type":"room:focus","payload":{"room":""}}"#, "room"),
        (r#"{"type":"room:focus","payload":{"room":7}}"#, "room"),
        (
            r#"{"type":"room:focus","payload":{"room":["general"]}}"#,
            "room",
        ),
        (r#"{"type":"room:focus"}"#, "payload"),
        (r#"{"type":"room:focus","payload":"general"}"#, "payload"),
    ] {
        let err = reject(text);
        assert_eq!(err.code(), ErrorCode::Invalid, "{text}: {err}");
        assert_eq!(err.payload.field.as_deref(), Some(field), "{text}: {err}");
    }
    let err = reject(r#"{"type":"room:focus","id":"f2","payload":{"room":"Bad Room"}}"#);
    assert_eq!(err.id, Some(RequestId::parse("f2").unwrap()), "id echoed");
}

#[test]
fn invalid_names_the_field() {
    let cases = [
        (
            r#"{"type":"chat:send","id":"a","payload":{"text":"hi"}}"#,
            "room",
        ),
        (
            r#"{"type":"chat:send","id":"a","payload":{"room":"general"}}"#,
            "text",
        ),
        (
            r#"{"type":"chat:send","id":"a","payload":{"room":"Bad Room","text":"hi"}}"#,
            "room",
        ),
        (
            r#"{"type":"chat:send","id":"a","payload":{"room":"general","text":7}}"#,
            "text",
        ),
        (
            r#"{"type":"chat:send","id":"a","payload":{"room":"general","text":""}}"#,
            "text",
        ),
        (
            r#"{"type":"room:join","id":"a","payload":{"room":"general","since_seq":-1}}"#,
            "since_seq",
        ),
        (
            r#"{"type":"chat:history","id":"a","payload":{"room":"general","before_seq":9,"limit":0}}"#,
            "limit",
        ),
        (
            r#"{"type":"notification:read","id":"a","payload":{}}"#,
            "ids",
        ),
        (
            r#"{"type":"dm:open","id":"a","payload":{"user":" "}}"#,
            "user",
        ),
        (r#"{"type":"room:join","id":"a"}"#, "payload"),
        (r#"{"type":"room:join","id":"a","payload":[1]}"#, "payload"),
        (
            r#"{"type":"room:join","id":"","payload":{"room":"general"}}"#,
            "id",
        ),
    ];
    for (text, field) in cases {
        let err = reject(text);
        assert_eq!(err.code(), ErrorCode::Invalid, "{text}: {err}");
        assert_eq!(err.payload.field.as_deref(), Some(field), "{text}: {err}");
        assert!(
            err.payload.message.starts_with(field),
            "{text}: {}",
            err.payload.message
        );
    }
}

#[test]
fn text_limit_is_4000_chars_after_trimming() {
    let ok = format!("  {}  ", "é".repeat(4000));
    let env = ClientEnvelope::new(
        Some(RequestId::parse("t").unwrap()),
        ClientMsg::ChatSend(ChatSend {
            room: RoomName::parse("general").unwrap(),
            text: ok,
            reply_to: None,
        }),
    );
    assert!(ClientEnvelope::decode(&env.encode()).is_ok());
    let too_long = ClientEnvelope::new(
        Some(RequestId::parse("t").unwrap()),
        ClientMsg::ChatSend(ChatSend {
            room: RoomName::parse("general").unwrap(),
            text: "x".repeat(4001),
            reply_to: None,
        }),
    );
    assert_eq!(
        reject(&too_long.encode()).payload.field.as_deref(),
        Some("text")
    );
}

#[test]
fn unknown_payload_fields_are_ignored_for_compatibility() {
    let env = ClientEnvelope::decode(
        r#"{"type":"room:join","id":"a","payload":{"room":"general","future":true}}"#,
    )
    .unwrap();
    assert_eq!(env.msg.kind(), ClientType::RoomJoin);
}

#[test]
fn errors_become_error_frames_with_the_id() {
    let err = reject(r#"{"type":"nope","id":"k9"}"#);
    let frame = ServerEnvelope::from(err).encode();
    assert!(
        frame.starts_with(r#"{"type":"error","id":"k9","payload":{"code":"unknown_type""#),
        "{frame}"
    );
}

#[test]
fn acks_decode_by_request_kind() {
    assert_eq!(
        Ack::decode_for(ClientType::RoomLeave, "{}").unwrap(),
        Ack::Empty(Empty {})
    );
    let sent = r#"{"message":{"id":1,"room":"general","seq":1,"author":{"id":1,"name":"a"},"text":"x","ts":0}}"#;
    assert!(matches!(
        Ack::decode_for(ClientType::ChatSend, sent).unwrap(),
        Ack::Sent(Sent { .. })
    ));
    let joined =
        r#"{"room":"general","last_seq":0,"messages":[],"has_more":false,"members":[],"unread":0}"#;
    assert!(matches!(
        Ack::decode_for(ClientType::RoomJoin, joined).unwrap(),
        Ack::RoomJoined(RoomJoined { .. })
    ));
    assert!(Ack::decode_for(ClientType::RoomJoin, "{}").is_err());
}

#[test]
fn notification_kind_names_are_the_wire_names() {
    use protocol::server::NotificationKind;
    for kind in NotificationKind::ALL {
        let wire = serde_json::to_string(&kind).unwrap();
        assert_eq!(wire, format!("\"{}\"", kind.as_str()));
        assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(NotificationKind::parse("Mention"), None);
}
