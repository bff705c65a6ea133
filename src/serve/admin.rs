//! `/admin`: change a route while serving — loopback clients only, with the server's token
//! (`Authorization: Bearer …`; without a configured token `/admin` is off).
//!
//! | route | answer |
//! |---|---|
//! | `GET /admin/routes` | every route: versions, weights, gate state, measurements, events |
//! | `POST /admin/routes/{name}` | `{"action":"promote"}`, `{"action":"abort","reason":…}`, `{"action":"weight","weight":0.3}` |

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::reply;
use super::state::{Shared, read_body};
use crate::core::error::{Error, Result};
use crate::core::serving::controller::{Action, act};

/// Refuse anyone but a loopback client with the token.
fn allowed(s: &Shared, peer: SocketAddr, headers: &HeaderMap) -> Result<()> {
    if !peer.ip().is_loopback() {
        return Err(Error::Forbidden(format!("/admin answers loopback clients only; {} is not one", peer.ip())));
    }
    let Some(token) = s.service.config().admin_token.as_deref() else {
        return Err(Error::Forbidden(
            "/admin is off: start the server with --admin-token (or MIRADOR_ADMIN_TOKEN) to change routes over HTTP"
                .into(),
        ));
    };
    let given =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    // Compare in constant time: the token is a secret.
    let same = given.is_some_and(|g| {
        g.len() == token.len() && g.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    });
    if !same {
        return Err(Error::Forbidden("/admin needs the server's token: Authorization: Bearer TOKEN".into()));
    }
    Ok(())
}

/// `GET /admin/routes`.
pub async fn routes(
    State(s): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = allowed(&s, peer, &headers) {
        return reply::error(&e);
    }
    let statuses: Vec<_> = s.service.routes().iter().map(|r| r.status()).collect();
    reply::json(StatusCode::OK, &json!({ "routes": statuses }))
}

/// `POST /admin/routes/{name}`.
pub async fn change(
    State(s): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let outcome = async {
        allowed(&s, peer, &headers)?;
        let name = params.get("name").map_or("", String::as_str);
        let route = s.service.route(name)?;
        let body = read_body(&s, body).await?;
        let action: Action = serde_json::from_slice(&body).map_err(|e| {
            Error::Invalid(format!("an admin request is {{\"action\": \"promote\" | \"abort\" | \"weight\", …}}: {e}"))
        })?;
        act(&route, &action, &s.service.config().registry, &format!("admin from {}", peer.ip()))?;
        Ok::<_, Error>(route.status())
    }
    .await;
    match outcome {
        Ok(status) => reply::json(StatusCode::OK, &status),
        Err(e) => reply::error(&e),
    }
}
