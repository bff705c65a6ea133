//! Answers in the protocol's shapes: JSON bodies, and errors as `{"error": "…"}` with the status
//! their kind calls for — 400 a bad request, 404 an unknown model or version, 413 too large, 503
//! overloaded or stopping, 504 too slow, 500 only for a fault of the server's own.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::core::error::{Error, ErrorKind};

/// The HTTP status for an error of `kind`.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Input => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        // The client went away; nobody reads this (nginx's 499).
        ErrorKind::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        ErrorKind::Model | ErrorKind::Io | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `{"error": message}` with `status`.
pub fn error_with(status: StatusCode, message: &str) -> Response {
    #[derive(Serialize)]
    struct Body<'a> {
        error: &'a str,
    }
    json(status, &Body { error: message })
}

/// The answer for `e`.
pub fn error(e: &Error) -> Response {
    error_with(status_of(e.kind()), &e.to_string())
}

/// `value` as a JSON body.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => bytes(status, "application/json", body),
        Err(e) => error_with(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot write the answer as JSON: {e}")),
    }
}

/// A body of `content_type`.
pub fn bytes(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
