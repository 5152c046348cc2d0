//! Logging through `tracing`: `RUST_LOG` style filter, human-readable lines
//! or JSON objects, each carrying the node's id (several nodes' logs end up
//! in one place).

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `filter` uses `EnvFilter` syntax
/// (e.g. `info,server=debug`). Calling it twice is harmless (tests).
pub fn init(filter: &str, format: LogFormat, node: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = match format {
        LogFormat::Text => builder
            .event_format(WithNode::text(node, tracing_subscriber::fmt::format()))
            .try_init(),
        LogFormat::Json => builder
            .event_format(WithNode::json(
                node,
                tracing_subscriber::fmt::format().json().flatten_event(true),
            ))
            .try_init(),
    };
}

/// Wraps an event format to add `node` to each line: a trailing
/// `node=...` field on a text line, a first `"node"` key in a JSON object.
struct WithNode<F> {
    inner: F,
    /// What goes into the line, already quoted for JSON.
    node: String,
    json: bool,
}

impl<F> WithNode<F> {
    fn text(node: &str, inner: F) -> Self {
        Self {
            inner,
            node: node.to_owned(),
            json: false,
        }
    }

    fn json(node: &str, inner: F) -> Self {
        let quoted = serde_json::to_string(node).unwrap_or_else(|_| "\"?\"".into());
        Self {
            inner,
            node: quoted,
            json: true,
        }
    }

    /// `line` (one formatted event, ending in a newline) with the node added.
    fn add_node(&self, line: &str) -> String {
        if self.json {
            match line.strip_prefix('{') {
                Some(rest) => format!("{{\"node\":{},{rest}", self.node),
                None => line.to_owned(),
            }
        } else {
            let body = line.strip_suffix('\n').unwrap_or(line);
            format!("{body} node={}\n", self.node)
        }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithNode<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Formatted aside first (without colours), then written whole.
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        writer.write_str(&self.add_node(&line))
    }
}

#[cfg(test)]
mod tests {
    use super::WithNode;

    #[test]
    fn the_node_goes_first_in_json_and_last_in_text() {
        let json = WithNode::json("web-1", ());
        assert_eq!(
            json.add_node("{\"level\":\"INFO\"}\n"),
            "{\"node\":\"web-1\",\"level\":\"INFO\"}\n"
        );
        let text = WithNode::text("web-1", ());
        assert_eq!(
            text.add_node("2026-12-03T10:00:00Z  INFO server: up\n"),
            "2026-12-03T10:00:00Z  INFO server: up node=web-1\n"
        );
    }

    #[test]
    fn a_node_id_with_quotes_stays_valid_json() {
        let json = WithNode::json("a\"b", ());
        let line = json.add_node("{\"x\":1}\n");
        let value: serde_json::Value = serde_json::from_str(line.trim()).expect("valid JSON");
        assert_eq!(value["node"], "a\"b");
        assert_eq!(value["x"], 1);
    }
}
