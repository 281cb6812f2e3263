//! The JSON API for IT's scripts, under `/api/v1`, with API tokens; described by the
//! OpenAPI document at `/api/v1/openapi.json` ([`document`]).
//!
//! Every operation goes through the controller's staff API, acting as the token's identity
//! (its account's role and sites, narrowed to the token's scope): the rights are checked and
//! the actions audited there, never here. This module only reads requests, bounds them (the
//! same limits as the dashboard's forms) and words the answers as JSON: `{"error", "code"}`,
//! plus `field` when one field of the request is at fault.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use commune_controller::reports::{SiteReport, SourceKind};
use commune_controller::staff::{Refusal, StaffError};
use commune_controller::{AgentView, Controller, ControllerError, StoreError};
use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::Api;

/// The longest a supervised slot is opened or extended for, in minutes (the dashboard's
/// forms: 12 hours).
pub const MAX_SLOT_MINUTES: u32 = 12 * 60;
/// The most seats one slot is opened on.
pub const MAX_SLOT_SEATS: usize = 200;
/// The most tickets of one batch (the dashboard's tickets form).
pub const MAX_TICKETS_PER_BATCH: usize = 200;
/// A ticket's session length, in minutes (the dashboard's tickets form).
pub const TICKET_MINUTES: std::ops::RangeInclusive<u32> = 5..=240;
/// How long tickets stay valid, in days (the dashboard's tickets form).
pub const MAX_TICKET_DAYS: u32 = 90;
/// How long an enrollment token stays valid, in hours (the dashboard's devices form).
pub const MAX_ENROLLMENT_HOURS: u32 = 168;
/// The longest report period, in days (the dashboard's report page).
pub use crate::period::MAX_PERIOD_DAYS;

// --- Errors ------------------------------------------------------------------------------

/// An API error: its status, a stable code for scripts, a sentence for people, and the
/// field of the request at fault when there is one.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Bad input in `field`.
    fn field(field: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message, "code": self.code });
        if let Some(field) = self.field {
            body["field"] = field.into();
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        let message = e.to_string();
        let (status, code) = match &e {
            StaffError::Forbidden(Refusal::SeatNotOfSite) => {
                return ApiError::field(
                    "seats",
                    "unknown seat: a computer of this site is needed (GET /api/v1/seats)",
                )
                .with_code("unknown_seat");
            }
            StaffError::Forbidden(Refusal::SeatInUse) => (StatusCode::CONFLICT, "seat_in_use"),
            StaffError::Forbidden(refusal) => (StatusCode::FORBIDDEN, refusal_code(*refusal)),
            StaffError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized"),
            StaffError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            StaffError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            StaffError::Controller(ControllerError::Store(store)) => match store {
                StoreError::UnknownSite(_) | StoreError::UnknownAgent(_) => {
                    (StatusCode::NOT_FOUND, "not_found")
                }
                StoreError::Conflict(_) | StoreError::SiteExists(_) => {
                    (StatusCode::CONFLICT, "conflict")
                }
                StoreError::Db(_) | StoreError::Open(_) => {
                    (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
                }
            },
            StaffError::Controller(ControllerError::Config(_)) => {
                (StatusCode::BAD_REQUEST, "invalid")
            }
            StaffError::Controller(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %e, "API request failed");
        }
        ApiError::new(status, code, message)
    }
}

impl ApiError {
    fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
}

fn refusal_code(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::NotYourSite => "not_your_site",
        Refusal::NotYourRole => "not_your_role",
        Refusal::NotYourSlot => "not_your_slot",
        Refusal::NotSupervised => "not_supervised",
        Refusal::FreeAccessSession => "free_access_session",
        Refusal::SeatInUse => "seat_in_use",
        Refusal::SeatNotOfSite => "unknown_seat",
        Refusal::OwnAccount => "own_account",
        Refusal::WrongPassword => "wrong_password",
    }
}

/// A JSON body, or the error axum found reading it (415 without a JSON content type, 413
/// past the body limit, 400 for malformed JSON or a field of the wrong type, naming it).
fn body<T>(read: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match read {
        Ok(Json(value)) => Ok(value),
        Err(rejection) => {
            let (status, code) = match &rejection {
                JsonRejection::MissingJsonContentType(_) => {
                    (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
                }
                JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
                JsonRejection::JsonDataError(_) => (StatusCode::BAD_REQUEST, "invalid"),
                _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
                }
                _ => (StatusCode::BAD_REQUEST, "invalid"),
            };
            Err(ApiError::new(status, code, rejection.body_text()))
        }
    }
}

/// The body limit's refusal (413, sent before any handler runs) as the API's JSON error
/// under `/api/`; other answers pass unchanged.
pub(crate) async fn json_refusals(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if api && response.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is larger than the dashboard accepts (`max_form_bytes`)",
        )
        .into_response();
    }
    response
}

fn query<T>(read: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    read.map(|Query(q)| q)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.body_text()))
}

fn in_range(
    field: &'static str,
    value: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<(), ApiError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            format!(
                "`{field}` is {} to {} (got {value})",
                range.start(),
                range.end()
            ),
        ))
    }
}

type ApiResult = Result<Response, ApiError>;

// --- Seats and devices -------------------------------------------------------------------

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
    /// `supervised`, `wiping`, `closed`, `blocked`…; `other` for one this version does not
    /// know).
    pub state: String,
    /// Last contact, RFC 3339, if any.
    pub last_seen: Option<String>,
    /// When the running session ends on its own, RFC 3339, as the seat reported it (a
    /// session with a limit only).
    pub session_ends_at: Option<String>,
}

/// The seat states the document lists.
const SEAT_STATES: [&str; 12] = [
    "offline",
    "revoked",
    "ready",
    "in_session",
    "ending",
    "wiping",
    "closed",
    "blocked",
    "supervised",
    "stepped_away",
    "device_alarm",
    "other",
];

fn state_of(a: &AgentView, live: &std::collections::HashMap<String, String>) -> String {
    let o = &a.overview;
    if o.agent.revoked_at.is_some() {
        return "revoked".into();
    }
    if !a.connected {
        return "offline".into();
    }
    let state = crate::reported_state(a, live).unwrap_or("ready");
    if SEAT_STATES.contains(&state) {
        state.to_owned()
    } else {
        "other".into()
    }
}

/// What the controller knows live of the seats: their states and their sessions' ends.
struct Live {
    states: std::collections::HashMap<String, String>,
    ends: std::collections::HashMap<String, UtcMillis>,
}

impl Live {
    fn of(c: &Controller) -> Live {
        Live {
            states: c.live_seat_states(),
            ends: c.live_session_ends(),
        }
    }
}

fn seat_of(a: &AgentView, live: &Live) -> Seat {
    let o = &a.overview;
    let state = state_of(a, &live.states);
    Seat {
        id: o.agent.id.clone(),
        site: o.agent.site_id.clone(),
        name: o.agent.hostname.clone(),
        session_ends_at: (state == "in_session" || state == "ending")
            .then(|| live.ends.get(&o.agent.id).map(|t| t.to_string()))
            .flatten(),
        state,
        last_seen: o.last_seen_at.map(|t| t.to_string()),
    }
}

/// `GET /api/v1/seats`: the seats of the sites the token acts on.
pub(crate) async fn seats(State(c): State<Controller>, Api(who): Api) -> ApiResult {
    let fleet = c.staff_api(&who).fleet().await?;
    let live = Live::of(&c);
    let seats: Vec<Seat> = fleet.iter().map(|a| seat_of(a, &live)).collect();
    Ok(Json(seats).into_response())
}

/// One seat in detail, as `GET /api/v1/seats/{id}` and `GET /api/v1/devices` return it.
#[derive(Debug, Serialize)]
pub struct Device {
    /// The seat's summary.
    #[serde(flatten)]
    pub seat: Seat,
    /// Asset tag (FEDER inventory).
    pub asset_tag: Option<String>,
    /// The agent's version.
    pub agent_version: String,
    /// Enrolled, RFC 3339.
    pub enrolled_at: String,
    /// Revoked, RFC 3339, if it was.
    pub revoked_at: Option<String>,
    /// The end of its certificate, RFC 3339.
    pub certificate_not_after: String,
}

fn device_of(a: &AgentView, live: &Live) -> Device {
    let o = &a.overview;
    Device {
        seat: seat_of(a, live),
        asset_tag: o.asset_tag.clone(),
        agent_version: o.agent.agent_version.clone(),
        enrolled_at: o.agent.enrolled_at.to_string(),
        revoked_at: o.agent.revoked_at.map(|t| t.to_string()),
        certificate_not_after: o.agent.cert_not_after.to_string(),
    }
}

/// `GET /api/v1/seats/{id}`: one seat of the token's sites (404 for another site's).
pub(crate) async fn seat(
    State(c): State<Controller>,
    Api(who): Api,
    Path(id): Path<String>,
) -> ApiResult {
    let api = c.staff_api(&who);
    // The staff API decides whether the seat is the person's (and audits a refusal).
    api.seat(&id).await?;
    let live = Live::of(&c);
    let fleet = api.fleet().await?;
    let found = fleet
        .iter()
        .find(|a| a.overview.agent.id == id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no computer `{id}`"),
            )
        })?;
    Ok(Json(device_of(found, &live)).into_response())
}

/// `GET /api/v1/devices`: every computer of the token's sites, revoked ones too (IT).
pub(crate) async fn devices(State(c): State<Controller>, Api(who): Api) -> ApiResult {
    let (fleet, _) = c.staff_api(&who).devices().await?;
    let live = Live::of(&c);
    let devices: Vec<Device> = fleet.iter().map(|a| device_of(a, &live)).collect();
    Ok(Json(devices).into_response())
}

/// `POST /api/v1/devices/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewEnrollmentToken {
    site: String,
    #[serde(default = "default_hours")]
    hours: u32,
}

fn default_hours() -> u32 {
    24
}

/// `POST /api/v1/devices/tokens`: a single-use enrollment token for a site (shown once).
pub(crate) async fn create_enrollment_token(
    State(c): State<Controller>,
    Api(who): Api,
    read: Result<Json<NewEnrollmentToken>, JsonRejection>,
) -> ApiResult {
    let asked = body(read)?;
    in_range("hours", asked.hours, 1..=MAX_ENROLLMENT_HOURS)?;
    let ttl = i64::from(asked.hours) * 3600;
    let token = c
        .staff_api(&who)
        .create_enrollment_token(&asked.site, ttl)
        .await?;
    let expires_at = commune_controller::now().plus_secs(ttl);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": token,
            "site": asked.site,
            "expires_at": expires_at.to_string(),
        })),
    )
        .into_response())
}

/// `POST /api/v1/devices/{id}/revoke`.
pub(crate) async fn revoke_device(
    State(c): State<Controller>,
    Api(who): Api,
    Path(id): Path<String>,
) -> ApiResult {
    c.staff_api(&who).revoke_agent(&id).await?;
    Ok(Json(json!({ "id": id, "revoked": true })).into_response())
}

// --- Periods, sessions, reports ----------------------------------------------------------

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`: inclusive days at the site; by default the last 30
/// days. The same rule as the dashboard's report page (`du`, `au`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Period {
    from: Option<String>,
    to: Option<String>,
}

/// A period's bounds: `[from, to)` in UTC, and its first and last local days.
struct Bounds {
    from: UtcMillis,
    to: UtcMillis,
    first_day: String,
    last_day: String,
}

impl Period {
    fn bounds(&self, zone: &str) -> Result<Bounds, ApiError> {
        use crate::period::{resolve, today, PeriodError};
        match resolve(self.from.as_deref(), self.to.as_deref(), zone, today(zone)) {
            Ok(days) => Ok(Bounds {
                from: days.from,
                to: days.to,
                first_day: days.first.to_string(),
                last_day: days.last.to_string(),
            }),
            Err(PeriodError::NotADate { first, text }) => {
                let field = if first { "from" } else { "to" };
                Err(ApiError::field(
                    field,
                    format!("`{field}` is a date, YYYY-MM-DD (got `{text}`)"),
                ))
            }
            Err(PeriodError::Bounds) => Err(ApiError::field(
                "from",
                format!(
                    "the period runs from `from` to `to`, both included, {MAX_PERIOD_DAYS} days at most"
                ),
            )),
        }
    }
}

/// `GET /api/v1/sites/{site}/sessions`: counts and durations of the site's sessions over a
/// period, per permanence and free access; never anything about a visitor.
pub(crate) async fn sessions(
    State(c): State<Controller>,
    Api(who): Api,
    Path(site): Path<String>,
    period: Result<Query<Period>, QueryRejection>,
) -> ApiResult {
    let api = c.staff_api(&who);
    let bounds = query(period)?.bounds(&api.time_zone(&site).await)?;
    let report = api.report(&site, bounds.from, bounds.to).await?;
    let sessions: u64 = report.lines.iter().map(|l| l.sessions).sum();
    let supervised: u64 = report.lines.iter().map(|l| l.supervised).sum();
    let lines: Vec<Value> = report
        .lines
        .iter()
        .map(|l| {
            json!({
                "key": l.key,
                "sessions": l.sessions,
                "supervised": l.supervised,
                "hours_used": l.hours_used,
            })
        })
        .collect();
    Ok(Json(json!({
        "site": site,
        "from": bounds.first_day,
        "to": bounds.last_day,
        "sessions": sessions,
        "supervised": supervised,
        "free": sessions.saturating_sub(supervised),
        "hours_used": report.hours_used(),
        "by_permanence": lines,
    }))
    .into_response())
}

fn source_kind(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::SessionLog => "session_log",
        SourceKind::DailyAggregates => "daily_aggregates",
        SourceKind::NoData => "no_data",
    }
}

fn report_json(site: &str, bounds: &Bounds, report: &SiteReport) -> Value {
    let available = report.hours_available();
    let used = report.hours_used();
    json!({
        "site": site,
        "from": bounds.first_day,
        "to": bounds.last_day,
        "hours_available": available,
        "hours_used": used,
        "occupancy": if available > 0.0 { Some(used / available) } else { None },
        "lines": report.lines.iter().map(|l| json!({
            "key": l.key,
            "sessions": l.sessions,
            "supervised": l.supervised,
            "hours_used": l.hours_used,
            "people": l.people,
            "categories": l.categories,
        })).collect::<Vec<_>>(),
        "seats": report.seats.iter().map(|s| json!({
            "id": s.agent_id,
            "name": s.hostname,
            "asset_tag": s.asset_tag,
            "sessions": s.sessions,
            "hours_available": s.hours_available,
            "hours_used": s.hours_used,
            "wipe_failures": s.wipe_failures,
            "availability": s.availability,
            "pages_printed": s.pages_printed,
            "pages_released_by_staff": s.pages_released_by_staff,
            "last_seen": s.last_seen.map(|t| t.to_string()),
        })).collect::<Vec<_>>(),
        "sources": report.sources.iter().map(|s| json!({
            "kind": source_kind(s.kind),
            "first_day": s.first_day.to_string(),
            "last_day": s.last_day.to_string(),
            "description": s.describe(),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/sites/{site}/report`: the site's report over a period, the figures of the
/// dashboard's report page (an export: audited).
pub(crate) async fn report(
    State(c): State<Controller>,
    Api(who): Api,
    Path(site): Path<String>,
    period: Result<Query<Period>, QueryRejection>,
) -> ApiResult {
    let api = c.staff_api(&who);
    let bounds = query(period)?.bounds(&api.time_zone(&site).await)?;
    let report = api
        .export_report(&site, bounds.from, bounds.to, "api:report.json")
        .await?;
    Ok(Json(report_json(&site, &bounds, &report)).into_response())
}

// --- Supervised slots ----------------------------------------------------------------------

/// `POST /api/v1/sites/{site}/slots`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSlot {
    seats: Vec<String>,
    minutes: u32,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /api/v1/sites/{site}/slots`: opens a supervised slot now on some seats.
pub(crate) async fn open_slot(
    State(c): State<Controller>,
    Api(who): Api,
    Path(site): Path<String>,
    read: Result<Json<NewSlot>, JsonRejection>,
) -> ApiResult {
    let asked = body(read)?;
    in_range("minutes", asked.minutes, 1..=MAX_SLOT_MINUTES)?;
    let mut seats: Vec<String> = Vec::new();
    for seat in asked.seats {
        if !seats.contains(&seat) {
            seats.push(seat);
        }
    }
    if seats.is_empty() || seats.len() > MAX_SLOT_SEATS {
        return Err(ApiError::field(
            "seats",
            format!("a slot is opened on 1 to {MAX_SLOT_SEATS} seats"),
        ));
    }
    let until = commune_controller::now().plus_secs(i64::from(asked.minutes) * 60);
    let name = asked.name.filter(|n| !n.trim().is_empty());
    let id = c
        .staff_api(&who)
        .open_slot(&site, &seats, until, name, None)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": id,
            "site": site,
            "seats": seats,
            "until": until.to_string(),
        })),
    )
        .into_response())
}

/// `POST /api/v1/sites/{site}/slots/{slot}/extend`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Extension {
    minutes: u32,
}

/// `POST /api/v1/sites/{site}/slots/{slot}/extend`: the slot ends `minutes` from now.
pub(crate) async fn extend_slot(
    State(c): State<Controller>,
    Api(who): Api,
    Path((site, slot)): Path<(String, String)>,
    read: Result<Json<Extension>, JsonRejection>,
) -> ApiResult {
    let asked = body(read)?;
    in_range("minutes", asked.minutes, 1..=MAX_SLOT_MINUTES)?;
    let until = commune_controller::now().plus_secs(i64::from(asked.minutes) * 60);
    c.staff_api(&who).extend_slot(&site, &slot, until).await?;
    Ok(Json(json!({ "id": slot, "site": site, "until": until.to_string() })).into_response())
}

/// `DELETE /api/v1/sites/{site}/slots/{slot}`: closes the slot now.
pub(crate) async fn close_slot(
    State(c): State<Controller>,
    Api(who): Api,
    Path((site, slot)): Path<(String, String)>,
) -> ApiResult {
    c.staff_api(&who).close_slot(&site, &slot).await?;
    Ok(Json(json!({
        "id": slot,
        "site": site,
        "until": commune_controller::now().to_string(),
    }))
    .into_response())
}

// --- Tickets -------------------------------------------------------------------------------

/// `POST /api/v1/sites/{site}/tickets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTickets {
    count: u32,
    minutes: u32,
    #[serde(default = "default_days")]
    days: u32,
}

fn default_days() -> u32 {
    7
}

/// `POST /api/v1/sites/{site}/tickets`: a batch of free-access tickets; their codes, shown
/// this once.
pub(crate) async fn create_tickets(
    State(c): State<Controller>,
    Api(who): Api,
    Path(site): Path<String>,
    read: Result<Json<NewTickets>, JsonRejection>,
) -> ApiResult {
    let asked = body(read)?;
    // usize from u32 cannot fail on the platforms Commune runs on.
    in_range("count", asked.count, 1..=MAX_TICKETS_PER_BATCH as u32)?;
    in_range("minutes", asked.minutes, TICKET_MINUTES)?;
    in_range("days", asked.days, 1..=MAX_TICKET_DAYS)?;
    let valid_until = commune_controller::now().plus_secs(i64::from(asked.days) * 86_400);
    let codes = c
        .staff_api(&who)
        .create_tickets(&site, asked.count as usize, asked.minutes, valid_until)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "site": site,
            "codes": codes,
            "minutes": asked.minutes,
            "valid_until": valid_until.to_string(),
        })),
    )
        .into_response())
}

// --- The document ------------------------------------------------------------------------

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> Json<Value> {
    Json(document())
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn responses(success: (&str, Value), errors: &[&str]) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(success.0.to_owned(), success.1);
    for status in ["401", "403"].iter().chain(errors) {
        let name = match *status {
            "400" => "BadRequest",
            "401" => "Unauthorized",
            "403" => "Forbidden",
            "404" => "NotFound",
            "409" => "Conflict",
            "413" => "PayloadTooLarge",
            "415" => "UnsupportedMediaType",
            _ => "Unavailable",
        };
        map.insert(
            (*status).to_owned(),
            json!({ "$ref": format!("#/components/responses/{name}") }),
        );
    }
    map.insert(
        "503".into(),
        json!({ "$ref": "#/components/responses/Unavailable" }),
    );
    Value::Object(map)
}

fn json_body(name: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema_ref(name) } } })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description,
            "schema": { "type": "string" } })
}

fn period_params() -> Value {
    json!([
        path_param("site", "site id"),
        { "name": "from", "in": "query", "required": false,
          "description": "first day, at the site (YYYY-MM-DD); 29 days before `to` by default",
          "schema": { "type": "string", "format": "date" } },
        { "name": "to", "in": "query", "required": false,
          "description": format!("last day, included (YYYY-MM-DD); today by default; {MAX_PERIOD_DAYS} days at most from `from`"),
          "schema": { "type": "string", "format": "date" } }
    ])
}

/// The OpenAPI 3.0 document of `/api/v1`.
pub fn document() -> Value {
    let date_time = json!({ "type": "string", "format": "date-time" });
    let nullable_date_time = json!({ "type": "string", "format": "date-time", "nullable": true });
    let body_errors: &[&str] = &["400", "413", "415"];
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Commune API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "For IT's scripts. Tokens: `commune user token --login L --name N \
                [--expires 90d] [--role R] [--site S ...]`; a token may be narrowed to a role no \
                higher than its account's and to some of its sites. Tokens expire (90 days by \
                default) and are refused once revoked (`commune user revoke-token`) or once \
                their account is disabled. Every action is checked against the token's role \
                and sites and written to the audit log. Errors are `{\"error\", \"code\"}` \
                (plus `field` when one field of the request is at fault)."
        },
        "components": {
            "securitySchemes": { "token": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "BadRequest": error_response("bad input: malformed JSON, a field of the wrong type or out of range (named in `field` when known), an unknown seat; nothing was done"),
                "Unauthorized": error_response("no token, or one that is unknown, expired, revoked or whose account is disabled"),
                "Forbidden": error_response("the token's role or sites do not allow this (audited)"),
                "NotFound": error_response("no such seat, site, device or open slot among the token's"),
                "Conflict": error_response("the state does not allow it now (e.g. a seat in another permanence)"),
                "PayloadTooLarge": error_response("the body is larger than the dashboard accepts"),
                "UnsupportedMediaType": error_response("the body is not `application/json`"),
                "Unavailable": error_response("the store is unavailable; try again later")
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "code"],
                    "properties": {
                        "error": { "type": "string", "description": "a sentence for a person" },
                        "code": { "type": "string", "description": "stable, for scripts",
                            "enum": ["invalid", "malformed_json", "unknown_seat", "unauthorized",
                                     "not_your_site", "not_your_role", "not_your_slot",
                                     "not_supervised", "free_access_session", "own_account",
                                     "wrong_password", "not_found", "conflict", "seat_in_use",
                                     "payload_too_large", "unsupported_media_type", "unavailable"] },
                        "field": { "type": "string", "description": "the request's field at fault" }
                    }
                },
                "Seat": {
                    "type": "object",
                    "required": ["id", "site", "name", "state"],
                    "properties": {
                        "id": { "type": "string", "description": "agent id" },
                        "site": { "type": "string" },
                        "name": { "type": "string", "description": "host name" },
                        "state": { "type": "string", "enum": SEAT_STATES },
                        "last_seen": nullable_date_time,
                        "session_ends_at": nullable_date_time
                    }
                },
                "Device": {
                    "type": "object",
                    "required": ["id", "site", "name", "state", "agent_version", "enrolled_at", "certificate_not_after"],
                    "properties": {
                        "id": { "type": "string", "description": "agent id" },
                        "site": { "type": "string" },
                        "name": { "type": "string", "description": "host name" },
                        "state": { "type": "string", "enum": SEAT_STATES },
                        "last_seen": nullable_date_time,
                        "session_ends_at": nullable_date_time,
                        "asset_tag": { "type": "string", "nullable": true },
                        "agent_version": { "type": "string" },
                        "enrolled_at": date_time,
                        "revoked_at": nullable_date_time,
                        "certificate_not_after": date_time
                    }
                },
                "SessionCounts": {
                    "type": "object",
                    "description": "counts and durations only: nothing about any visitor",
                    "required": ["site", "from", "to", "sessions", "supervised", "free", "hours_used", "by_permanence"],
                    "properties": {
                        "site": { "type": "string" },
                        "from": { "type": "string", "format": "date" },
                        "to": { "type": "string", "format": "date" },
                        "sessions": { "type": "integer", "minimum": 0 },
                        "supervised": { "type": "integer", "minimum": 0 },
                        "free": { "type": "integer", "minimum": 0 },
                        "hours_used": { "type": "number", "minimum": 0 },
                        "by_permanence": { "type": "array", "items": {
                            "type": "object",
                            "required": ["key", "sessions", "supervised", "hours_used"],
                            "properties": {
                                "key": { "type": "string", "description": "`libre` (free access), a permanence id, or `accompagne`" },
                                "sessions": { "type": "integer", "minimum": 0 },
                                "supervised": { "type": "integer", "minimum": 0 },
                                "hours_used": { "type": "number", "minimum": 0 }
                            }
                        } }
                    }
                },
                "Report": {
                    "type": "object",
                    "description": "the figures of the dashboard's report page",
                    "required": ["site", "from", "to", "hours_available", "hours_used", "lines", "seats", "sources"],
                    "properties": {
                        "site": { "type": "string" },
                        "from": { "type": "string", "format": "date" },
                        "to": { "type": "string", "format": "date" },
                        "hours_available": { "type": "number", "minimum": 0 },
                        "hours_used": { "type": "number", "minimum": 0 },
                        "occupancy": { "type": "number", "nullable": true, "description": "hours used / hours available" },
                        "lines": { "type": "array", "items": {
                            "type": "object",
                            "required": ["key", "sessions", "supervised", "hours_used", "people", "categories"],
                            "properties": {
                                "key": { "type": "string" },
                                "sessions": { "type": "integer", "minimum": 0 },
                                "supervised": { "type": "integer", "minimum": 0 },
                                "hours_used": { "type": "number", "minimum": 0 },
                                "people": { "type": "integer", "minimum": 0 },
                                "categories": { "type": "object", "additionalProperties": { "type": "integer", "minimum": 0 } }
                            }
                        } },
                        "seats": { "type": "array", "items": {
                            "type": "object",
                            "required": ["id", "name", "sessions", "hours_available", "hours_used", "wipe_failures", "availability"],
                            "properties": {
                                "id": { "type": "string" },
                                "name": { "type": "string" },
                                "asset_tag": { "type": "string", "nullable": true },
                                "sessions": { "type": "integer", "minimum": 0 },
                                "hours_available": { "type": "number", "minimum": 0 },
                                "hours_used": { "type": "number", "minimum": 0 },
                                "wipe_failures": { "type": "integer", "minimum": 0 },
                                "availability": { "type": "number", "minimum": 0, "maximum": 1 },
                                "pages_printed": { "type": "integer", "minimum": 0 },
                                "pages_released_by_staff": { "type": "integer", "minimum": 0 },
                                "last_seen": nullable_date_time
                            }
                        } },
                        "sources": { "type": "array", "items": {
                            "type": "object",
                            "required": ["kind", "first_day", "last_day", "description"],
                            "properties": {
                                "kind": { "type": "string", "enum": ["session_log", "daily_aggregates", "no_data"] },
                                "first_day": { "type": "string", "format": "date" },
                                "last_day": { "type": "string", "format": "date" },
                                "description": { "type": "string" }
                            }
                        } }
                    }
                },
                "NewSlot": {
                    "type": "object",
                    "required": ["seats", "minutes"],
                    "additionalProperties": false,
                    "properties": {
                        "seats": { "type": "array", "minItems": 1, "maxItems": MAX_SLOT_SEATS, "items": { "type": "string" }, "description": "seat ids of the site" },
                        "minutes": { "type": "integer", "minimum": 1, "maximum": MAX_SLOT_MINUTES },
                        "name": { "type": "string", "maxLength": commune_controller::staff::MAX_SLOT_NAME_CHARS, "description": "shown on the seats" }
                    }
                },
                "Extension": {
                    "type": "object",
                    "required": ["minutes"],
                    "additionalProperties": false,
                    "properties": {
                        "minutes": { "type": "integer", "minimum": 1, "maximum": MAX_SLOT_MINUTES, "description": "the slot ends this many minutes from now" }
                    }
                },
                "Slot": {
                    "type": "object",
                    "required": ["id", "site", "until"],
                    "properties": {
                        "id": { "type": "string" },
                        "site": { "type": "string" },
                        "seats": { "type": "array", "items": { "type": "string" } },
                        "until": date_time
                    }
                },
                "NewTickets": {
                    "type": "object",
                    "required": ["count", "minutes"],
                    "additionalProperties": false,
                    "properties": {
                        "count": { "type": "integer", "minimum": 1, "maximum": MAX_TICKETS_PER_BATCH },
                        "minutes": { "type": "integer", "minimum": TICKET_MINUTES.start(), "maximum": TICKET_MINUTES.end(), "description": "each ticket's session" },
                        "days": { "type": "integer", "minimum": 1, "maximum": MAX_TICKET_DAYS, "default": 7, "description": "valid for" }
                    }
                },
                "Tickets": {
                    "type": "object",
                    "required": ["site", "codes", "minutes", "valid_until"],
                    "properties": {
                        "site": { "type": "string" },
                        "codes": { "type": "array", "items": { "type": "string" }, "description": "shown this once: only their hashes are kept" },
                        "minutes": { "type": "integer" },
                        "valid_until": date_time
                    }
                },
                "NewEnrollmentToken": {
                    "type": "object",
                    "required": ["site"],
                    "additionalProperties": false,
                    "properties": {
                        "site": { "type": "string" },
                        "hours": { "type": "integer", "minimum": 1, "maximum": MAX_ENROLLMENT_HOURS, "default": 24 }
                    }
                },
                "EnrollmentToken": {
                    "type": "object",
                    "required": ["token", "site", "expires_at"],
                    "properties": {
                        "token": { "type": "string", "description": "single use, shown this once" },
                        "site": { "type": "string" },
                        "expires_at": date_time
                    }
                },
                "Revoked": {
                    "type": "object",
                    "required": ["id", "revoked"],
                    "properties": { "id": { "type": "string" }, "revoked": { "type": "boolean" } }
                }
            }
        },
        "security": [{ "token": [] }],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": { "200": ok("the OpenAPI document", json!({ "type": "object" })) }
                }
            },
            "/api/v1/seats": {
                "get": {
                    "operationId": "listSeats",
                    "summary": "Seats of the sites the token acts on",
                    "responses": responses(("200", ok("the seats", json!({ "type": "array", "items": schema_ref("Seat") }))), &[])
                }
            },
            "/api/v1/seats/{id}": {
                "get": {
                    "operationId": "getSeat",
                    "summary": "One seat of the token's sites",
                    "parameters": [path_param("id", "agent id")],
                    "responses": responses(("200", ok("the seat", schema_ref("Device"))), &["404"])
                }
            },
            "/api/v1/sites/{site}/sessions": {
                "get": {
                    "operationId": "sessionCounts",
                    "summary": "Counts and durations of a site's sessions over a period (staff and above; no visitor data)",
                    "parameters": period_params(),
                    "responses": responses(("200", ok("the counts", schema_ref("SessionCounts"))), &["400", "404"])
                }
            },
            "/api/v1/sites/{site}/report": {
                "get": {
                    "operationId": "siteReport",
                    "summary": "A site's report over a period, as the dashboard shows it (staff and above; audited as an export)",
                    "parameters": period_params(),
                    "responses": responses(("200", ok("the report", schema_ref("Report"))), &["400", "404"])
                }
            },
            "/api/v1/sites/{site}/slots": {
                "post": {
                    "operationId": "openSlot",
                    "summary": "Open a supervised slot now on some seats of the site",
                    "parameters": [path_param("site", "site id")],
                    "requestBody": json_body("NewSlot"),
                    "responses": responses(("201", ok("the slot opened", schema_ref("Slot"))), &[body_errors, &["404", "409"]].concat())
                }
            },
            "/api/v1/sites/{site}/slots/{slot}/extend": {
                "post": {
                    "operationId": "extendSlot",
                    "summary": "Move the end of a supervised slot open now (a mediator: only the slots they opened)",
                    "parameters": [path_param("site", "site id"), path_param("slot", "slot id")],
                    "requestBody": json_body("Extension"),
                    "responses": responses(("200", ok("the slot's new end", schema_ref("Slot"))), &[body_errors, &["404"]].concat())
                }
            },
            "/api/v1/sites/{site}/slots/{slot}": {
                "delete": {
                    "operationId": "closeSlot",
                    "summary": "Close a supervised slot open now (a mediator: only the slots they opened)",
                    "parameters": [path_param("site", "site id"), path_param("slot", "slot id")],
                    "responses": responses(("200", ok("the slot, closed now", schema_ref("Slot"))), &["404"])
                }
            },
            "/api/v1/sites/{site}/tickets": {
                "post": {
                    "operationId": "createTickets",
                    "summary": "Create a batch of free-access tickets (staff and above); the codes are shown this once",
                    "parameters": [path_param("site", "site id")],
                    "requestBody": json_body("NewTickets"),
                    "responses": responses(("201", ok("the tickets", schema_ref("Tickets"))), &[body_errors, &["404"]].concat())
                }
            },
            "/api/v1/devices": {
                "get": {
                    "operationId": "listDevices",
                    "summary": "Every computer of the token's sites, revoked ones too (IT and admin)",
                    "responses": responses(("200", ok("the devices", json!({ "type": "array", "items": schema_ref("Device") }))), &[])
                }
            },
            "/api/v1/devices/tokens": {
                "post": {
                    "operationId": "createEnrollmentToken",
                    "summary": "A single-use enrollment token for a site (IT and admin)",
                    "requestBody": json_body("NewEnrollmentToken"),
                    "responses": responses(("201", ok("the token", schema_ref("EnrollmentToken"))), &[body_errors, &["404"]].concat())
                }
            },
            "/api/v1/devices/{id}/revoke": {
                "post": {
                    "operationId": "revokeDevice",
                    "summary": "Revoke a computer: its certificate is refused from now on (IT and admin)",
                    "parameters": [path_param("id", "agent id")],
                    "responses": responses(("200", ok("revoked", schema_ref("Revoked"))), &["404"])
                }
            }
        }
    })
}
