//! The national exports as staff download them ("lieux de médiation numérique" CSV,
//! data·inclusion services JSON), checked by sources the exports did not write: the schemas'
//! own files (vendored in `tests/schemas/`, with their version and licence) for every value,
//! and an OpenStreetMap `opening_hours` parser (the `opening-hours` crate) for every set of
//! hours, compared quarter of an hour by quarter of an hour with what the seats themselves
//! compile from the same schedule.

use std::collections::HashMap;
use std::time::Duration;

use commune_controller::lieux::SiteDetails;
use commune_controller::staff::Role;
use commune_protocol::messages::SlotKind;
use commune_protocol::slots::{
    compile_between, Closure, Permanence, Programme, SiteSchedule, TimeRange, Weekday, WeeklyHours,
};
use commune_protocol::UtcMillis;
use commune_tests::web::{self, http};
use commune_tests::{parse_csv, TestController, SITE};
use serde_json::Value;

const SCHEMA: &str = include_str!("../schemas/lieux-mediation-numerique/schema.json");
const PASSWORD: &str = "un mot de passe long";

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange {
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
    }
}

fn details() -> SiteDetails {
    SiteDetails {
        pivot: "21380185500015".into(),
        commune: "Grenoble".into(),
        code_postal: "38000".into(),
        adresse: "2 rue de l'Abbaye".into(),
        services: vec!["Aide aux démarches administratives".into()],
        ..Default::default()
    }
}

/// Today in Paris, and `today + days`, as schedule dates.
fn paris_day(days: i64) -> commune_protocol::slots::LocalDate {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .date();
    today
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
        .parse()
        .unwrap()
}

/// The night site: Friday 22:00–02:00 (across midnight), Saturday 09:00–00:00, weekdays
/// 09:00–12:00 and 13:30–18:00, Sunday closed; closed for two days next week, and a closure
/// already past.
fn night_schedule() -> SiteSchedule {
    let mut hours = WeeklyHours::default();
    for day in [
        &mut hours.monday,
        &mut hours.tuesday,
        &mut hours.wednesday,
        &mut hours.thursday,
    ] {
        day.push(range("09:00", "12:00"));
        day.push(range("13:30", "18:00"));
    }
    hours.friday.push(range("09:00", "12:00"));
    hours.friday.push(range("22:00", "02:00"));
    hours.saturday.push(range("09:00", "00:00"));
    SiteSchedule {
        opening_hours: hours,
        closures: vec![
            Closure {
                label: "Inventaire".into(),
                first_day: paris_day(8),
                last_day: paris_day(9),
            },
            Closure {
                label: "Passée".into(),
                first_day: paris_day(-30),
                last_day: paris_day(-29),
            },
        ],
        seats: vec!["pc-1".into()],
        ..SiteSchedule::always_open("Europe/Paris")
    }
}

/// Whether `value` passes the schema's constraints for `field`; the reason when not.
fn check_field(field: &Value, value: &str) -> Result<(), String> {
    let name = field["name"].as_str().unwrap();
    let c = &field["constraints"];
    if value.is_empty() {
        return if c["required"].as_bool() == Some(true) {
            Err(format!("{name}: required"))
        } else {
            Ok(())
        };
    }
    if let Some(pattern) = c["pattern"].as_str() {
        // Table Schema patterns match the whole value.
        let re = regex::Regex::new(&format!("^(?:{pattern})$")).unwrap();
        if !re.is_match(value) {
            return Err(format!("{name}: {value:?} does not match {pattern}"));
        }
    }
    if let Some(max) = c["maxLength"].as_u64() {
        if value.chars().count() as u64 > max {
            return Err(format!("{name}: longer than {max}"));
        }
    }
    match field["type"].as_str() {
        Some("number") => {
            value
                .parse::<f64>()
                .map_err(|_| format!("{name}: {value:?} is not a number"))?;
        }
        Some("date") => {
            value
                .parse::<jiff::civil::Date>()
                .map_err(|_| format!("{name}: {value:?} is not a date"))?;
        }
        _ => {}
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lieux_export_passes_the_schemas_own_file_and_names_each_refused_field() {
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    c.create_staff("it", "IT", Role::It, &[], PASSWORD)
        .await
        .unwrap();
    let cli = commune_controller::staff::StaffIdentity::cli();
    let api = c.staff_api(&cli);
    for (id, name) in [
        ("mdh-nuit", "MDH de nuit"),
        ("mdh-sans-horaires", "MDH sans horaires"),
        ("mdh-fautive", "MDH fautive"),
    ] {
        api.add_site(id, name).await.unwrap();
    }
    // A site id goes into addresses, file names and metric labels: refused otherwise.
    for bad in ["MDH Nuit", "mdh\"}", "-mdh"] {
        let refused = api.add_site(bad, "MDH").await.unwrap_err().to_string();
        assert!(refused.contains("a-z, 0-9"), "{bad}: {refused}");
    }
    api.set_schedule("mdh-nuit", night_schedule())
        .await
        .unwrap();
    // The usual French ways of typing: spaces in the phone number and the INSEE code, a
    // service in lower case. They are brought to the schema's spelling, nothing refused.
    let remarks = api
        .set_site_details(
            "mdh-nuit",
            &SiteDetails {
                telephone: "04 76 12 34 56".into(),
                code_insee: "38 185".into(),
                courriels: vec!["accueil.nuit@grenoble.fr".into()],
                site_web: "https://www.grenoble.fr".into(),
                latitude: Some(45.1885),
                longitude: Some(5.7245),
                services: vec![
                    "aide aux démarches administratives".into(),
                    "Accès internet et matériel informatique".into(),
                ],
                dispositif_programmes_nationaux: vec!["Conseillers numériques".into()],
                modalites_acces: vec!["Se présenter".into(), "Téléphoner".into()],
                modalites_accompagnement: vec!["En autonomie".into()],
                presentation_resume: "Accès libre aux ordinateurs et aide aux démarches.".into(),
                ..details()
            },
        )
        .await
        .unwrap();
    assert!(remarks.is_empty(), "{remarks:?}");
    api.set_site_details("mdh-sans-horaires", &details())
        .await
        .unwrap();
    api.set_site_details(SITE, &details()).await.unwrap();
    api.set_schedule(SITE, SiteSchedule::always_open("Europe/Paris"))
        .await
        .unwrap();
    // What the schema refuses: a number too short, a made-up service, programme and way in.
    let refused = api
        .set_site_details(
            "mdh-fautive",
            &SiteDetails {
                telephone: "04 76 12".into(),
                code_insee: "38 18".into(),
                services: vec!["Cours de cuisine".into()],
                dispositif_programmes_nationaux: vec!["Pass Culture".into()],
                modalites_acces: vec!["Par pigeon voyageur".into()],
                ..details()
            },
        )
        .await
        .unwrap();
    let fields: Vec<&str> = refused
        .iter()
        .filter(|p| p.blocking)
        .map(|p| p.field)
        .collect();
    assert_eq!(
        fields,
        [
            "code_insee",
            "telephone",
            "services",
            "dispositif_programmes_nationaux",
            "modalites_acces"
        ]
    );

    let addr = web::serve_dashboard(c.clone()).await;
    let cookie = web::login(addr, "it", PASSWORD).await;
    let (export, report) = tokio::task::spawn_blocking(move || {
        let get = |path: &str| http(addr, "GET", path, &[("Cookie", &cookie)], "");
        (
            get("/export/lieux-mediation-numerique.csv"),
            get("/sites/mdh-fautive/rapports"),
        )
    })
    .await
    .unwrap();
    assert_eq!(export.status, 200, "{}", export.body);
    assert_eq!(
        export.header("x-commune-incomplete-sites"),
        Some("mdh-fautive"),
        "{}",
        export.headers
    );
    // The staff's report page says which field is wrong, with the value typed.
    assert_eq!(report.status, 200, "{}", report.body);
    for shown in [
        "telephone",
        "+33476",
        "services",
        "Cours de cuisine",
        "modalites_acces",
    ] {
        assert!(report.body.contains(shown), "{shown} not on the page");
    }

    // Every cell against the schema's own file.
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let fields = schema["fields"].as_array().unwrap();
    let rows = parse_csv(&export.body, ',');
    let header: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(rows[0], header, "the schema's columns, in its order");
    let data: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r.len() > 1).collect();
    let ids: Vec<&str> = data.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(!ids.contains(&"mdh-fautive"));
    for row in &data {
        assert_eq!(row.len(), fields.len());
        for (field, value) in fields.iter().zip(row.iter()) {
            if let Err(e) = check_field(field, value) {
                panic!("{}: {e}", row[0]);
            }
        }
    }
    let by_id: HashMap<&str, &Vec<String>> = data.iter().map(|r| (r[0].as_str(), *r)).collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let nuit = by_id["mdh-nuit"];
    assert_eq!(nuit[column("telephone")], "+33476123456");
    assert_eq!(nuit[column("code_insee")], "38185");
    assert_eq!(
        nuit[column("services")],
        "Aide aux démarches administratives|Accès internet et matériel informatique"
    );
    assert_eq!(
        by_id["mdh-sans-horaires"][column("horaires")],
        "",
        "no hours: left empty"
    );
    assert_eq!(by_id[SITE][column("horaires")], "Mo-Su 00:00-24:00");

    // Every `horaires` read by an OpenStreetMap opening_hours parser says what the seats
    // compile from the same schedule, every quarter of an hour of the next five weeks
    // (the night across midnight, the closure of next week included).
    let model = night_schedule();
    let horaires = &nuit[column("horaires")];
    assert!(horaires.contains(" off"), "the closure: {horaires}");
    assert_eq!(
        horaires.matches(" off").count(),
        1,
        "only the closure to come: {horaires}"
    );
    let kinds = SeatKinds::compile(&model, "pc-1");
    let open = compare_every_quarter(horaires, |ms| {
        kinds.at(ms).is_some_and(|k| k != SlotKind::Closed)
    });
    assert!(
        open > 35 * 4 * 4,
        "the site is open some of the time: {open}"
    );
}

const SERVICE_SCHEMA: &str = include_str!("../schemas/data-inclusion/service.json");

/// The night site with a permanence on Tuesdays and Thursdays 14:00–17:00 on `seat`, from
/// three days ahead to twenty (so that its dates show in the five weeks compared).
fn schedule_with_permanence(seat: &str) -> SiteSchedule {
    let mut model = night_schedule();
    model.seats = vec![seat.into()];
    model.permanences.push(Permanence {
        id: "ecrivain".into(),
        name: "Écrivain public".into(),
        programme: Programme::EcrivainPublic,
        weekdays: vec![Weekday::Tuesday, Weekday::Thursday],
        start: "14:00".parse().unwrap(),
        end: "17:00".parse().unwrap(),
        seats: vec![seat.into()],
        mediator: "Mme Martin".into(),
        valid_from: Some(paris_day(3)),
        valid_until: Some(paris_day(20)),
    });
    model
}

/// Today's midnight in Paris, where the comparisons start.
fn paris_midnight() -> jiff::Timestamp {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .start_of_day()
        .unwrap()
        .timestamp()
}

/// What a seat compiles from a schedule over the compared weeks (and a day more).
struct SeatKinds(Vec<commune_protocol::schedule::Slot>);

impl SeatKinds {
    fn compile(model: &SiteSchedule, seat: &str) -> SeatKinds {
        let start = paris_midnight();
        let until = start + jiff::SignedDuration::from_hours(36 * 24);
        SeatKinds(
            compile_between(
                model,
                seat,
                UtcMillis(start.as_millisecond()),
                UtcMillis(until.as_millisecond()),
            )
            .unwrap(),
        )
    }

    /// The kind of slot at `ms`.
    fn at(&self, ms: i64) -> Option<SlotKind> {
        self.0
            .iter()
            .find(|s| s.start.0 <= ms && ms < s.end.0)
            .map(|s| s.kind)
    }
}

/// Every quarter of an hour of the next five weeks: whether `osm` says open, against
/// `expected` at the same instant. Returns how many quarters `expected` said open.
fn compare_every_quarter(horaires: &str, expected: impl Fn(i64) -> bool) -> usize {
    let osm: opening_hours::OpeningHours = horaires
        .parse()
        .unwrap_or_else(|e| panic!("{horaires}: {e}"));
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let start = paris_midnight();
    let until = start + jiff::SignedDuration::from_hours(35 * 24);
    let mut checked = 0;
    let mut open = 0;
    let mut at = start;
    while at < until {
        let local = at.to_zoned(paris.clone()).datetime();
        let naive = chrono::NaiveDate::from_ymd_opt(
            i32::from(local.year()),
            u32::try_from(local.month()).unwrap(),
            u32::try_from(local.day()).unwrap(),
        )
        .unwrap()
        .and_hms_opt(
            u32::try_from(local.hour()).unwrap(),
            u32::try_from(local.minute()).unwrap(),
            0,
        )
        .unwrap();
        let want = expected(at.as_millisecond());
        assert_eq!(
            osm.is_open(naive),
            want,
            "{horaires} at {local} (Paris): the OSM parser and the seats disagree"
        );
        checked += 1;
        open += usize::from(want);
        at += Duration::from_secs(15 * 60);
    }
    assert_eq!(checked, 35 * 24 * 4);
    open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_inclusion_services_pass_the_schemas_own_file() {
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    c.create_staff("it", "IT", Role::It, &[], PASSWORD)
        .await
        .unwrap();
    let cli = commune_controller::staff::StaffIdentity::cli();
    let api = c.staff_api(&cli);
    api.add_site("mdh-nuit", "MDH de nuit").await.unwrap();
    api.add_site("mdh-fautive", "MDH fautive").await.unwrap();
    // A computer of the night site, enrolled through the real path, for the permanence.
    let token = c.create_enrollment_token("mdh-nuit", 600).await.unwrap();
    let (seat, _dir) = commune_tests::enroll_agent(ctrl.addr, &token)
        .await
        .unwrap();
    let seat = seat.agent_id;
    let model = schedule_with_permanence(&seat);
    api.set_schedule("mdh-nuit", model.clone()).await.unwrap();
    api.set_site_details(
        "mdh-nuit",
        &SiteDetails {
            telephone: "04 76 12 34 56".into(),
            code_insee: "38185".into(),
            courriels: vec!["accueil.nuit@grenoble.fr".into()],
            latitude: Some(45.1885),
            longitude: Some(5.7245),
            ..details()
        },
    )
    .await
    .unwrap();
    api.set_site_details(SITE, &details()).await.unwrap();
    api.set_site_details(
        "mdh-fautive",
        &SiteDetails {
            code_postal: "380".into(),
            ..details()
        },
    )
    .await
    .unwrap();

    let addr = web::serve_dashboard(c.clone()).await;
    let cookie = web::login(addr, "it", PASSWORD).await;
    let export = tokio::task::spawn_blocking(move || {
        http(
            addr,
            "GET",
            "/export/data-inclusion-services.json",
            &[("Cookie", &cookie)],
            "",
        )
    })
    .await
    .unwrap();
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(
        export.headers.contains("application/json"),
        "{}",
        export.headers
    );
    assert_eq!(
        export.header("x-commune-incomplete-sites"),
        Some("mdh-fautive")
    );

    let schema: Value = serde_json::from_str(SERVICE_SCHEMA).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let services: Vec<Value> = serde_json::from_str(&export.body).unwrap();
    for service in &services {
        let errors: Vec<String> = validator
            .iter_errors(service)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", service["id"]);
    }
    let ids: Vec<&str> = services.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "commune--mdh-nuit--acces-libre",
            "commune--mdh-nuit--ecrivain",
            "commune--mdh-test--acces-libre"
        ],
        "each site's free access and its permanence; the site the schema refuses left out"
    );
    let by_id = |id: &str| services.iter().find(|s| s["id"] == id).unwrap();
    let free = by_id("commune--mdh-nuit--acces-libre");
    assert_eq!(free["type"], "aide-materielle");
    assert_eq!(free["telephone"], "+33476123456");
    assert_eq!(
        free["modes_mobilisation"],
        serde_json::json!(["se-presenter", "telephoner"])
    );
    let permanence = by_id("commune--mdh-nuit--ecrivain");
    assert_eq!(permanence["type"], "accompagnement");
    assert!(
        !export.body.contains("Martin"),
        "no mediator's name in open data"
    );
    assert!(
        by_id("commune--mdh-test--acces-libre")
            .get("horaires_accueil")
            .is_none(),
        "a site without hours has none"
    );

    // The hours read by the OSM parser: free access as the site's opening hours, the
    // permanence as the seat's supervised slots, closures included.
    let kinds = SeatKinds::compile(&model, &seat);
    let supervised =
        compare_every_quarter(permanence["horaires_accueil"].as_str().unwrap(), |ms| {
            kinds.at(ms) == Some(SlotKind::Supervised)
        });
    assert!(
        supervised >= 4 * 12,
        "two afternoons a week, two weeks or more: {supervised}"
    );
    // Free access: the site's hours (the permanence's seat is supervised then, the site
    // still open).
    let open = compare_every_quarter(free["horaires_accueil"].as_str().unwrap(), |ms| {
        kinds.at(ms).is_some_and(|k| k != SlotKind::Closed)
    });
    assert!(open > supervised);
}
