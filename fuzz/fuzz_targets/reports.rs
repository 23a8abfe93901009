//! What both exchange targets (`http_reply`, `grpc_reply`) assert of every
//! probe's outcome.

use healthprobe::fuzzing::Outcome;

/// Asserts exit 0 or 1, one text line, and a JSON report that parses and
/// agrees with the exit; returns the JSON report.
pub fn checked(outcome: &Outcome) -> serde_json::Value {
    assert!(outcome.exit == 0 || outcome.exit == 1, "{outcome:?}");
    assert_eq!(outcome.text.matches('\n').count(), 1, "{outcome:?}");
    assert!(outcome.text.ends_with('\n'), "{outcome:?}");
    let json: serde_json::Value =
        serde_json::from_str(&outcome.json).unwrap_or_else(|e| panic!("{e}: {outcome:?}"));
    assert_eq!(
        json["healthy"],
        serde_json::Value::Bool(outcome.exit == 0),
        "{outcome:?}"
    );
    json
}
