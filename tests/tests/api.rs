//! The JSON API for IT's scripts over real HTTP on loopback, against a real controller and
//! its SQLite file: the OpenAPI document read by an independent OpenAPI model, every
//! documented operation called and its answers checked against the document's schemas,
//! tokens narrowed to a role and sites, and bad input refused with nothing created.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use commune_controller::staff::{Role, StaffIdentity};
use commune_controller::Controller;
use commune_tests::web::{http_body, serve_dashboard, Reply};
use commune_tests::{enroll_agent, TestController, SITE};
use serde_json::{json, Value};

const OTHER_SITE: &str = "mdh-autre";
const PASSWORD: &str = "un mot de passe assez long";

/// The document, and every (method, path template) the test called.
struct Api {
    addr: SocketAddr,
    doc: Value,
    called: BTreeSet<(String, String)>,
}

impl Api {
    /// Calls `template` (its `{…}` filled in order by `params`) with `token` and a JSON
    /// `body`; checks the answer's status is documented for the operation and its body
    /// matches the documented schema.
    async fn call(
        &mut self,
        token: &str,
        method: &str,
        template: &str,
        params: &[&str],
        body: Option<Value>,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        let reply = self
            .raw(
                &format!("Bearer {token}"),
                method,
                template,
                params,
                body.as_ref().map(|_| "application/json"),
                body.as_deref().unwrap_or(""),
            )
            .await;
        let value: Value = serde_json::from_str(&reply.body).unwrap_or_else(|e| {
            panic!(
                "{method} {template}: {} with a body that is not JSON ({e}): {}",
                reply.status, reply.body
            )
        });
        self.check(method, template, reply.status, &value);
        (reply.status, value)
    }

    /// One request as given, recorded as a call of `template`.
    async fn raw(
        &mut self,
        authorization: &str,
        method: &str,
        template: &str,
        params: &[&str],
        content_type: Option<&str>,
        body: &str,
    ) -> Reply {
        let operation = template.split('?').next().unwrap_or(template);
        self.called
            .insert((method.to_lowercase(), operation.to_owned()));
        let mut path = template.to_owned();
        for p in params {
            let start = path.find('{').expect("a parameter to fill");
            let end = start + path[start..].find('}').expect("a closing brace");
            path.replace_range(start..=end, p);
        }
        let (addr, method, auth, ct, body) = (
            self.addr,
            method.to_owned(),
            authorization.to_owned(),
            content_type.map(str::to_owned),
            body.to_owned(),
        );
        tokio::task::spawn_blocking(move || {
            let headers: Vec<(&str, &str)> = if auth.is_empty() {
                vec![]
            } else {
                vec![("Authorization", auth.as_str())]
            };
            http_body(addr, &method, &path, &headers, ct.as_deref(), &body)
        })
        .await
        .expect("request")
    }

    /// The status is one the document gives for the operation; the body matches its schema.
    fn check(&self, method: &str, template: &str, status: u16, body: &Value) {
        let template = template.split('?').next().unwrap_or(template);
        let operation = &self.doc["paths"][template][method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
        let mut response = &operation["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which the document does not give: {body}"
        );
        if let Some(r) = response["$ref"].as_str() {
            response = resolve(&self.doc, r).expect("a response reference");
        }
        let schema = &response["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {template} {status}: no schema"
        );
        let mut root = json_schema(schema);
        root["components"] = json_schema(&self.doc["components"]);
        let validator = jsonschema::options()
            .build(&root)
            .unwrap_or_else(|e| panic!("{method} {template} {status}: schema: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {template} {status}: {errors:?}\n{body:#}"
        );
    }
}

/// The value a local `$ref` (`#/…`) points to.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes a `null` type.
fn json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(k.clone(), json_schema(v));
            }
            if out.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert("type".into(), json!([t, "null"]));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(json_schema).collect()),
        other => other.clone(),
    }
}

/// Every `$ref` string in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

async fn token(
    c: &Controller,
    login: &str,
    name: &str,
    role: Option<Role>,
    sites: &[&str],
) -> Result<String, String> {
    let sites: Vec<String> = sites.iter().map(|s| s.to_string()).collect();
    c.staff_api(&StaffIdentity::cli())
        .create_scoped_api_token(
            login,
            name,
            std::time::Duration::from_secs(86_400),
            role,
            &sites,
        )
        .await
        .map_err(|e| e.to_string())
}

async fn open_slots(c: &Controller, site: &str) -> usize {
    let (model, _) = c.site_schedule(site).await.expect("schedule");
    model
        .ad_hoc
        .iter()
        .filter(|s| s.end > commune_controller::now())
        .count()
}

async fn valid_tickets(c: &Controller, site: &str) -> usize {
    c.store()
        .site_tickets(site, commune_controller::now())
        .await
        .expect("tickets")
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_scoped_tokens_and_bad_input() {
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let now = commune_controller::now();
    c.store()
        .add_site(OTHER_SITE, "MDH Autre", now)
        .await
        .expect("second site");
    // Two computers here, one at the other site: enrolled, never started (offline).
    let (a, _da) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    let (b, _db) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    let other_token = c
        .create_enrollment_token(OTHER_SITE, 600)
        .await
        .expect("token");
    let (elsewhere, _de) = enroll_agent(ctrl.addr, &other_token)
        .await
        .expect("enroll elsewhere");
    let (seat_a, seat_b, seat_else) = (a.agent_id, b.agent_id, elsewhere.agent_id);

    for (login, role, sites) in [
        ("it", Role::It, vec![]),
        ("accueil", Role::Staff, vec![SITE.to_string()]),
        ("marie", Role::Mediator, vec![SITE.to_string()]),
    ] {
        c.create_staff(login, login, role, &sites, PASSWORD)
            .await
            .expect("account");
    }
    let it = token(&c, "it", "inventaire", None, &[]).await.unwrap();
    let it_here = token(&c, "it", "ici", None, &[SITE]).await.unwrap();
    let it_as_staff = token(&c, "it", "comme-accueil", Some(Role::Staff), &[SITE])
        .await
        .unwrap();
    let staff = token(&c, "accueil", "scripts", None, &[]).await.unwrap();
    let staff_as_mediator = token(&c, "accueil", "permanences", Some(Role::Mediator), &[])
        .await
        .unwrap();
    let mediator = token(&c, "marie", "permanences", None, &[]).await.unwrap();

    // Narrowing never widens, and says why.
    let refused = token(&c, "accueil", "plus", Some(Role::It), &[])
        .await
        .unwrap_err();
    assert!(refused.contains("staff at most"), "{refused}");
    let refused = token(&c, "accueil", "ailleurs", None, &[OTHER_SITE])
        .await
        .unwrap_err();
    assert!(refused.contains("does not act on site"), "{refused}");
    let refused = token(&c, "it", "sans-site", Some(Role::Staff), &[])
        .await
        .unwrap_err();
    assert!(refused.contains("names its sites"), "{refused}");

    let addr = serve_dashboard(c.clone()).await;
    let mut api = Api {
        addr,
        doc: Value::Null,
        called: BTreeSet::new(),
    };

    // --- The document -----------------------------------------------------------------
    let reply = api
        .raw("", "GET", "/api/v1/openapi.json", &[], None, "")
        .await;
    assert_eq!(reply.status, 200);
    let doc: Value = serde_json::from_str(&reply.body).expect("the document is JSON");
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).expect("an OpenAPI 3.0 document");
    assert!(spec.openapi.starts_with("3.0"));
    assert!(spec
        .components
        .as_ref()
        .is_some_and(|c| c.security_schemes.contains_key("token")));
    let mut all_refs = Vec::new();
    refs(&doc, &mut all_refs);
    assert!(!all_refs.is_empty());
    for r in &all_refs {
        assert!(resolve(&doc, r).is_some(), "`{r}` does not resolve");
    }
    let mut documented = BTreeSet::new();
    for (path, item) in spec.paths.iter() {
        let item = item.as_item().expect("paths are inline");
        for (method, op) in item.iter() {
            documented.insert((method.to_owned(), path.clone()));
            let public = op.security.as_ref().is_some_and(|s| s.is_empty());
            for status in ["401", "403", "503"] {
                let has = op
                    .responses
                    .responses
                    .contains_key(&openapiv3::StatusCode::Code(status.parse().unwrap()));
                assert!(public || has, "{method} {path} does not document {status}");
            }
            if op.request_body.is_some() {
                for status in [400, 413, 415] {
                    assert!(
                        op.responses
                            .responses
                            .contains_key(&openapiv3::StatusCode::Code(status)),
                        "{method} {path} takes a body but does not document {status}"
                    );
                }
            }
        }
    }
    api.doc = doc;
    api.check("GET", "/api/v1/openapi.json", 200, &api.doc.clone());

    // --- Seats ------------------------------------------------------------------------
    let (status, seats) = api.call(&it, "GET", "/api/v1/seats", &[], None).await;
    assert_eq!(status, 200);
    assert_eq!(seats.as_array().unwrap().len(), 3);
    // Narrowed to this site: the other site's seat is not listed, nor found.
    let (_, seats) = api.call(&it_here, "GET", "/api/v1/seats", &[], None).await;
    let ids: Vec<&str> = seats
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&seat_a.as_str()) && !ids.contains(&seat_else.as_str()));
    let (status, seat) = api
        .call(&it, "GET", "/api/v1/seats/{id}", &[&seat_else], None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(seat["site"], OTHER_SITE);
    assert_eq!(seat["state"], "offline");
    let (status, _) = api
        .call(&it_here, "GET", "/api/v1/seats/{id}", &[&seat_else], None)
        .await;
    assert_eq!(status, 404, "another site's seat is not told to exist");
    let (status, _) = api
        .call(&it, "GET", "/api/v1/seats/{id}", &["pas-un-poste"], None)
        .await;
    assert_eq!(status, 404);

    // --- Slots --------------------------------------------------------------------------
    let (status, slot) = api
        .call(
            &staff,
            "POST",
            "/api/v1/sites/{site}/slots",
            &[SITE],
            Some(json!({ "seats": [seat_a], "minutes": 30, "name": "Écrivain public" })),
        )
        .await;
    assert_eq!(status, 201, "{slot}");
    let staff_slot = slot["id"].as_str().unwrap().to_owned();
    let (status, moved) = api
        .call(
            &staff,
            "POST",
            "/api/v1/sites/{site}/slots/{slot}/extend",
            &[SITE, &staff_slot],
            Some(json!({ "minutes": 90 })),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    // A mediator: their own slot yes, the staff's no, and not on a seat in it.
    let (status, err) = api
        .call(
            &mediator,
            "POST",
            "/api/v1/sites/{site}/slots/{slot}/extend",
            &[SITE, &staff_slot],
            Some(json!({ "minutes": 10 })),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("not_your_slot")));
    let (status, err) = api
        .call(
            &mediator,
            "POST",
            "/api/v1/sites/{site}/slots",
            &[SITE],
            Some(json!({ "seats": [seat_a], "minutes": 30 })),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (409, Some("seat_in_use")));
    let (status, theirs) = api
        .call(
            &mediator,
            "POST",
            "/api/v1/sites/{site}/slots",
            &[SITE],
            Some(json!({ "seats": [seat_b], "minutes": 60 })),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");
    let theirs = theirs["id"].as_str().unwrap().to_owned();
    let (status, _) = api
        .call(
            &mediator,
            "DELETE",
            "/api/v1/sites/{site}/slots/{slot}",
            &[SITE, &theirs],
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .call(
            &mediator,
            "DELETE",
            "/api/v1/sites/{site}/slots/{slot}",
            &[SITE, &staff_slot],
            None,
        )
        .await;
    assert_eq!(status, 403);
    // Narrowed to this site: the other site is refused.
    let (status, err) = api
        .call(
            &it_here,
            "POST",
            "/api/v1/sites/{site}/slots",
            &[OTHER_SITE],
            Some(json!({ "seats": [seat_else], "minutes": 30 })),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("not_your_site")));
    let (status, _) = api
        .call(
            &it,
            "DELETE",
            "/api/v1/sites/{site}/slots/{slot}",
            &[SITE, "adhoc-inconnu"],
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = api
        .call(
            &staff,
            "DELETE",
            "/api/v1/sites/{site}/slots/{slot}",
            &[SITE, &staff_slot],
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(open_slots(&c, SITE).await, 0);

    // --- Tickets ------------------------------------------------------------------------
    let (status, tickets) = api
        .call(
            &staff,
            "POST",
            "/api/v1/sites/{site}/tickets",
            &[SITE],
            Some(json!({ "count": 3, "minutes": 45 })),
        )
        .await;
    assert_eq!(status, 201, "{tickets}");
    assert_eq!(tickets["codes"].as_array().unwrap().len(), 3);
    assert_eq!(valid_tickets(&c, SITE).await, 3);
    for who in [&mediator, &staff_as_mediator] {
        let (status, err) = api
            .call(
                who,
                "POST",
                "/api/v1/sites/{site}/tickets",
                &[SITE],
                Some(json!({ "count": 3, "minutes": 45 })),
            )
            .await;
        assert_eq!((status, err["code"].as_str()), (403, Some("not_your_role")));
    }

    // --- Sessions and reports -----------------------------------------------------------
    let (status, counts) = api
        .call(
            &staff,
            "GET",
            "/api/v1/sites/{site}/sessions",
            &[SITE],
            None,
        )
        .await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts["sessions"], 0);
    let text = counts.to_string();
    assert!(!text.contains("visitor") && !text.contains("ticket"));
    let last_week = format!(
        "/api/v1/sites/{{site}}/sessions?from={}&to={}",
        jiff::Zoned::now()
            .date()
            .checked_sub(jiff::Span::new().days(7))
            .unwrap(),
        jiff::Zoned::now().date()
    );
    let (status, _) = api.call(&staff, "GET", &last_week, &[SITE], None).await;
    assert_eq!(status, 200);
    let (status, report) = api
        .call(&staff, "GET", "/api/v1/sites/{site}/report", &[SITE], None)
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["seats"].as_array().unwrap().len(),
        c.staff_api(&StaffIdentity::cli())
            .report(SITE, now.plus_secs(-29 * 86_400), now.plus_secs(86_400))
            .await
            .unwrap()
            .seats
            .len()
    );
    let (status, _) = api
        .call(
            &mediator,
            "GET",
            "/api/v1/sites/{site}/report",
            &[SITE],
            None,
        )
        .await;
    assert_eq!(status, 403, "a mediator does not see reports");
    let (status, _) = api
        .call(
            &it_here,
            "GET",
            "/api/v1/sites/{site}/sessions",
            &[OTHER_SITE],
            None,
        )
        .await;
    assert_eq!(status, 403);
    let audit = c.store().audit_log(now).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "report.export" && e.detail.contains("via api:scripts")));

    // --- Devices ------------------------------------------------------------------------
    let (status, devices) = api.call(&it, "GET", "/api/v1/devices", &[], None).await;
    assert_eq!(status, 200);
    assert_eq!(devices.as_array().unwrap().len(), 3);
    let (_, devices) = api
        .call(&it_here, "GET", "/api/v1/devices", &[], None)
        .await;
    assert_eq!(devices.as_array().unwrap().len(), 2);
    let (status, _) = api.call(&staff, "GET", "/api/v1/devices", &[], None).await;
    assert_eq!(status, 403);
    let (status, created) = api
        .call(
            &it,
            "POST",
            "/api/v1/devices/tokens",
            &[],
            Some(json!({ "site": SITE, "hours": 2 })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = api
        .call(
            &it_as_staff,
            "POST",
            "/api/v1/devices/tokens",
            &[],
            Some(json!({ "site": SITE })),
        )
        .await;
    assert_eq!(
        status, 403,
        "an IT token narrowed to staff manages no device"
    );
    let (status, _) = api
        .call(
            &it,
            "POST",
            "/api/v1/devices/tokens",
            &[],
            Some(json!({ "site": "pas-un-site" })),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = api
        .call(
            &it_here,
            "POST",
            "/api/v1/devices/{id}/revoke",
            &[&seat_else],
            None,
        )
        .await;
    assert_eq!(
        status, 403,
        "narrowed to this site: not the other's computers"
    );
    let (status, revoked) = api
        .call(
            &it,
            "POST",
            "/api/v1/devices/{id}/revoke",
            &[&seat_else],
            None,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    let (_, seat) = api
        .call(&it, "GET", "/api/v1/seats/{id}", &[&seat_else], None)
        .await;
    assert_eq!(seat["state"], "revoked");
    let (status, _) = api
        .call(
            &it,
            "POST",
            "/api/v1/devices/{id}/revoke",
            &["pas-un-poste"],
            None,
        )
        .await;
    assert_eq!(status, 404);

    // --- Bad input: a clear 400 (or 413/415), nothing created ----------------------------
    let tickets_before = valid_tickets(&c, SITE).await;
    let slot_path = "/api/v1/sites/{site}/slots";
    let bearer = format!("Bearer {staff}");
    for (body, code, mentions) in [
        ("{\"seats\": [", "malformed_json", ""),
        ("{\"seats\": \"a\", \"minutes\": 30}", "invalid", "seats"),
        (
            "{\"seats\": [\"x\"], \"minutes\": \"30\"}",
            "invalid",
            "minutes",
        ),
        (
            "{\"seats\": [\"x\"], \"minutes\": 30, \"extra\": 1}",
            "invalid",
            "extra",
        ),
    ] {
        let reply = api
            .raw(
                &bearer,
                "POST",
                slot_path,
                &[SITE],
                Some("application/json"),
                body,
            )
            .await;
        let value: Value = serde_json::from_str(&reply.body).expect("a JSON error");
        api.check("POST", slot_path, reply.status, &value);
        assert_eq!(reply.status, 400, "{body}: {value}");
        assert_eq!(value["code"], code, "{body}: {value}");
        assert!(
            value["error"].as_str().unwrap().contains(mentions),
            "{value}"
        );
    }
    for (body, field) in [
        (json!({ "seats": [seat_a], "minutes": 0 }), "minutes"),
        (json!({ "seats": [seat_a], "minutes": 100_000 }), "minutes"),
        (json!({ "seats": [], "minutes": 30 }), "seats"),
        (json!({ "seats": ["pas-un-poste"], "minutes": 30 }), "seats"),
        (json!({ "seats": [seat_else], "minutes": 30 }), "seats"),
    ] {
        let (status, err) = api
            .call(&staff, "POST", slot_path, &[SITE], Some(body.clone()))
            .await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some(field)),
            "{body}: {err}"
        );
    }
    let (status, err) = api
        .call(
            &staff,
            "POST",
            "/api/v1/sites/{site}/slots/{slot}/extend",
            &[SITE, "adhoc-x"],
            Some(json!({ "minutes": 0 })),
        )
        .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("minutes")));
    for (body, field) in [
        (json!({ "count": 10_000, "minutes": 45 }), "count"),
        (json!({ "count": 0, "minutes": 45 }), "count"),
        (json!({ "count": 5, "minutes": 0 }), "minutes"),
        (json!({ "count": 5, "minutes": 45, "days": 1000 }), "days"),
    ] {
        let (status, err) = api
            .call(
                &staff,
                "POST",
                "/api/v1/sites/{site}/tickets",
                &[SITE],
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some(field)),
            "{body}: {err}"
        );
    }
    let (status, err) = api
        .call(
            &staff,
            "POST",
            "/api/v1/sites/{site}/tickets",
            &[SITE],
            Some(json!({ "count": -1, "minutes": 45 })),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    assert!(err["error"].as_str().unwrap().contains("count"), "{err}");
    let (status, err) = api
        .call(
            &it,
            "POST",
            "/api/v1/devices/tokens",
            &[],
            Some(json!({ "site": SITE, "hours": 10_000 })),
        )
        .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("hours")));
    let (status, err) = api
        .call(
            &staff,
            "GET",
            "/api/v1/sites/{site}/sessions?from=2020-01-01&to=2026-01-01",
            &[SITE],
            None,
        )
        .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("from")),
        "{err}"
    );
    let (status, err) = api
        .call(
            &staff,
            "GET",
            "/api/v1/sites/{site}/sessions?from=hier",
            &[SITE],
            None,
        )
        .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("from")),
        "{err}"
    );
    // Not JSON, or too large.
    let reply = api
        .raw(
            &bearer,
            "POST",
            slot_path,
            &[SITE],
            Some("text/plain"),
            "{}",
        )
        .await;
    assert_eq!(reply.status, 415);
    let value: Value = serde_json::from_str(&reply.body).expect("a JSON error");
    api.check("POST", slot_path, 415, &value);
    let huge = format!(
        "{{\"seats\": [{}], \"minutes\": 30}}",
        vec!["\"x\""; 40_000].join(",")
    );
    let reply = api
        .raw(
            &bearer,
            "POST",
            slot_path,
            &[SITE],
            Some("application/json"),
            &huge,
        )
        .await;
    assert_eq!(reply.status, 413);
    let value: Value = serde_json::from_str(&reply.body)
        .unwrap_or_else(|_| panic!("413 is not JSON: {}", reply.body));
    api.check("POST", slot_path, 413, &value);
    assert_eq!(open_slots(&c, SITE).await, 0, "no slot was opened");
    assert_eq!(
        valid_tickets(&c, SITE).await,
        tickets_before,
        "no ticket was created"
    );

    // --- Who is asking ------------------------------------------------------------------
    let reply = api.raw("", "GET", "/api/v1/seats", &[], None, "").await;
    assert_eq!(reply.status, 401);
    let value: Value = serde_json::from_str(&reply.body).unwrap();
    api.check("GET", "/api/v1/seats", 401, &value);
    assert_eq!(value["code"], "unauthorized");
    // The scheme is case-insensitive (RFC 9110 §11.1).
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let reply = api
            .raw(
                &format!("{scheme} {it}"),
                "GET",
                "/api/v1/seats",
                &[],
                None,
                "",
            )
            .await;
        assert_eq!(reply.status, 200, "{scheme}");
    }

    // Every operation of the document was called.
    let missing: Vec<_> = documented.difference(&api.called).collect();
    assert!(missing.is_empty(), "operations never called: {missing:?}");
}
