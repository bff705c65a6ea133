//! Late labels over HTTP: `POST /v2/models/{m}/feedback` joins true values to rows served
//! earlier; `GET` on the same path answers the realised metrics now (the live windows).
//!
//! ```json
//! {"id": "req-17", "label": 1}
//! {"labels": [{"id": "req-17", "row": 2, "label": "yes"}, {"key": "C-1001", "label": 0}]}
//! ```
//!
//! A label names its row by the request's `id` (the one sent with the inference request) and the
//! row's position in it (`row`, default 0), or by `key` (the request's `key` parameter or the
//! route's sticky key column). The answer counts what was `received`, `matched` and `unmatched`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::reply;
use super::state::{Shared, read_body};
use crate::core::error::{Error, Result};
use crate::core::serving::quality::Feedback;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Label {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    row: Option<u32>,
    #[serde(default)]
    key: Option<Value>,
    label: Value,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Posted {
    Many { labels: Vec<Label> },
    One(Label),
}

/// `POST /v2/models/{model}/feedback`.
pub async fn post(State(s): State<Shared>, Path(params): Path<HashMap<String, String>>, body: Body) -> Response {
    let outcome = async {
        let name = params.get("model").map_or("", String::as_str).to_string();
        s.service.route(&name)?;
        let body = read_body(&s, body).await?;
        let labels = parse(&body, s.service.config().limits.max_rows)?;
        let service = std::sync::Arc::clone(&s);
        tokio::task::spawn_blocking(move || service.service.feedback(&name, labels))
            .await
            .map_err(|e| Error::internal(format!("the feedback task failed: {e}")))?
    }
    .await;
    match outcome {
        Ok(o) => reply::json(StatusCode::OK, &o),
        Err(e) => reply::error(&e),
    }
}

/// `GET /v2/models/{model}/feedback`: the realised metrics of the live windows.
pub async fn get(State(s): State<Shared>, Path(params): Path<HashMap<String, String>>) -> Response {
    let name = params.get("model").map_or("", String::as_str);
    if let Err(e) = s.service.route(name) {
        return reply::error(&e);
    }
    let figures = s.service.quality().state().snapshot().remove(name).unwrap_or_default();
    reply::json(StatusCode::OK, &json!({"model": name, "quality": figures}))
}

/// The labels of a feedback body, at most `limit` of them.
fn parse(body: &[u8], limit: usize) -> Result<Vec<Feedback>> {
    let shape =
        "a feedback body is {\"id\": …, \"row\": …, \"label\": …}, {\"key\": …, \"label\": …} or {\"labels\": [those]}";
    let parsed: Posted = serde_json::from_slice(body).map_err(|e| Error::Invalid(format!("{shape}: {e}")))?;
    let labels = match parsed {
        Posted::Many { labels } => labels,
        Posted::One(l) => vec![l],
    };
    if labels.is_empty() {
        return Err(Error::Invalid("the feedback has no labels".into()));
    }
    if labels.len() > limit {
        return Err(Error::TooLarge(format!(
            "the feedback has {} labels; this server takes at most {limit} per request (max_rows)",
            labels.len()
        )));
    }
    labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let text = |what: &str, v: &Value| {
                scalar_text(v)
                    .ok_or_else(|| Error::Invalid(format!("label {i}: its {what} must be a string or a number")))
            };
            Ok(Feedback {
                id: l.id.as_ref().map(|v| text("id", v)).transpose()?,
                row: l.row,
                key: l.key.as_ref().map(|v| text("key", v)).transpose()?,
                label: text("label", &l.label)?,
            })
        })
        .collect()
}

/// A JSON string, number or boolean as text; a whole number written as a float (`1.0`) as an
/// integer, so it matches the class `1`.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Some(i.to_string()),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(format!("{}", f as i64)),
            (None, Some(f)) => Some(f.to_string()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_bodies_in_both_shapes_and_bad_ones_refused() {
        let one = parse(br#"{"id": "r1", "label": 1.0}"#, 10).unwrap();
        assert_eq!(one, vec![Feedback { id: Some("r1".into()), row: None, key: None, label: "1".into() }]);
        let many =
            parse(br#"{"labels": [{"id": 7, "row": 2, "label": "yes"}, {"key": "C-1", "label": 2.5}]}"#, 10).unwrap();
        assert_eq!(many[0].id.as_deref(), Some("7"));
        assert_eq!((many[0].row, many[1].key.as_deref(), many[1].label.as_str()), (Some(2), Some("C-1"), "2.5"));
        for bad in [&br#"{"labels": []}"#[..], br#"{"id": "r", "label": [1]}"#, br#"{"id": "r"}"#, b"nope"] {
            assert_eq!(parse(bad, 10).unwrap_err().kind(), crate::core::error::ErrorKind::Input, "{bad:?}");
        }
        let two = br#"{"labels": [{"id": "a", "label": 1}, {"id": "b", "label": 0}]}"#;
        assert_eq!(parse(two, 1).unwrap_err().kind(), crate::core::error::ErrorKind::TooLarge);
    }
}
