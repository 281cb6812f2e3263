//! The JSON API for IT's scripts, under `/api/v1`, with API tokens; described by the
//! OpenAPI document at `/api/v1/openapi.json`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use commune_controller::Controller;
use serde::Serialize;

use crate::auth::Api;

/// One seat as `GET /api/v1/seats` returns it.
#[derive(Debug, Serialize)]
pub struct Seat {
    /// Agent id.
    pub id: String,
    /// Site id.
    pub site: String,
    /// Host name.
    pub name: String,
    /// `offline`, `revoked`, or the state the seat reports (`ready`, `in_session`,
    /// `supervised`, `wiping`, `closed`, `blocked`).
    pub state: String,
    /// Last contact, RFC 3339, if any.
    pub last_seen: Option<String>,
}

/// `GET /api/v1/seats`: the seats of the sites the token's account acts on.
pub(crate) async fn seats(State(c): State<Controller>, Api(who): Api) -> Response {
    match c.staff_api(&who).fleet().await {
        Ok(fleet) => Json(
            fleet
                .into_iter()
                .map(|a| {
                    let o = a.overview;
                    let state = if o.agent.revoked_at.is_some() {
                        "revoked".to_owned()
                    } else if !a.connected {
                        "offline".to_owned()
                    } else {
                        o.seat_state.unwrap_or_else(|| "ready".into())
                    };
                    Seat {
                        id: o.agent.id,
                        site: o.agent.site_id,
                        name: o.agent.hostname,
                        state,
                        last_seen: o.last_seen_at.map(|t| t.to_string()),
                    }
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Commune API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "For IT's scripts. Tokens: `commune user token --login L --name N [--expires 90d]`; they expire (90 days by default) and are refused once revoked (`commune user revoke-token`) or once their account is disabled."
        },
        "components": {
            "securitySchemes": { "token": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Seat": {
                    "type": "object",
                    "required": ["id", "site", "name", "state"],
                    "properties": {
                        "id": { "type": "string", "description": "agent id" },
                        "site": { "type": "string" },
                        "name": { "type": "string", "description": "host name" },
                        "state": {
                            "type": "string",
                            "enum": ["offline", "revoked", "ready", "in_session", "ending",
                                     "wiping", "closed", "blocked", "supervised", "other"]
                        },
                        "last_seen": { "type": "string", "format": "date-time", "nullable": true }
                    }
                },
                "Error": {
                    "type": "object",
                    "properties": { "error": { "type": "string" } }
                }
            }
        },
        "security": [{ "token": [] }],
        "paths": {
            "/api/v1/seats": {
                "get": {
                    "summary": "Seats of the sites the token's account acts on",
                    "responses": {
                        "200": {
                            "description": "the seats",
                            "content": { "application/json": { "schema": {
                                "type": "array", "items": { "$ref": "#/components/schemas/Seat" }
                            } } }
                        },
                        "401": {
                            "description": "no token, or one that is unknown, expired, revoked or whose account is disabled",
                            "content": { "application/json": { "schema": {
                                "$ref": "#/components/schemas/Error"
                            } } }
                        }
                    }
                }
            }
        }
    }))
}
