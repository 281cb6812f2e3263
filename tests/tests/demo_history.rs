//! The demo's year of history (`commune_controller::history`, written by `commune demo` on
//! its first start through the store's ingest path): the first report of a site shows a
//! year of non-zero figures that match exactly what the generator wrote (sessions, free
//! and supervised, hours, people received, month by month), and the report page draws
//! them: free against supervised, occupancy by weekday and hour (closed days left out),
//! the trend over twelve months, each chart beside its data table and its method; in
//! Chromium, with axe-core, in French and English, and printed on A4 through the print
//! stylesheet (the navigation, forms and download links left out).

use commune_controller::staff::Role;
use commune_controller::{now, ControllerConfig};
use commune_protocol::slots::SiteSchedule;
use commune_protocol::UtcMillis;
use commune_tests::web::{http, login, serve_dashboard};
use commune_tests::{enroll_agent, TestController, SITE};
use serde_json::json;

const PASSWORD: &str = "un mot de passe long";

/// A site like the demo's: open Monday to Saturday with a lunch break, closed on Sunday;
/// a permanence on Tuesday afternoons on the second computer.
fn schedule(seats: &[String]) -> SiteSchedule {
    let text = format!(
        r#"
time_zone = "Europe/Paris"
seats = ["{a}", "{b}"]
[opening_hours]
monday    = [{{ start = "13:30", end = "18:00" }}]
tuesday   = [{{ start = "09:00", end = "12:00" }}, {{ start = "13:30", end = "18:00" }}]
wednesday = [{{ start = "09:00", end = "12:00" }}, {{ start = "13:30", end = "18:00" }}]
thursday  = [{{ start = "13:30", end = "19:00" }}]
friday    = [{{ start = "09:00", end = "12:00" }}, {{ start = "13:30", end = "17:00" }}]
saturday  = [{{ start = "10:00", end = "12:30" }}]
[free_access]
session_minutes = 45
[[permanences]]
id = "ecrivain-mardi"
name = "Écrivain public"
programme = "ecrivain_public"
weekdays = ["tuesday"]
start = "14:00"
end = "17:00"
seats = ["{b}"]
mediator = "Mme Martin"
"#,
        a = seats[0],
        b = seats[1]
    );
    toml::from_str(&text).unwrap()
}

fn day_start(day: &str) -> UtcMillis {
    let date: jiff::civil::Date = day.parse().unwrap();
    let zoned = date
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .unwrap();
    UtcMillis(zoned.timestamp().as_millisecond())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_history_shows_in_the_first_report_with_its_charts_and_print_view() {
    // The purge keeps the whole year in the session log here; reports_history.rs covers
    // the aggregates.
    let ctrl = TestController::start_with(|c: &mut ControllerConfig| {
        c.retention.session_log_days = 36_500;
    })
    .await;
    let c = ctrl.controller.clone();
    let mut seats = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..2 {
        let (config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await).await.unwrap();
        seats.push(config.agent_id.clone());
        dirs.push(dir);
    }
    let cli = commune_controller::staff::StaffIdentity::cli();
    c.staff_api(&cli)
        .set_schedule(SITE, schedule(&seats))
        .await
        .unwrap();

    let at = now();
    let history = commune_controller::history::write_history(&c, &[SITE], 365, at, 7)
        .await
        .unwrap();
    let site = &history.sites[SITE];
    // A plausible year: a few sessions a day on two computers, the permanence's people.
    assert!(site.sessions > 1_000, "{site:?}");
    assert!(
        site.supervised > 50 && site.supervised < site.sessions / 2,
        "{site:?}"
    );
    assert!(site.people >= site.supervised, "{site:?}");
    assert!(site.months.len() >= 12, "{:?}", site.months);
    assert!(site.months.values().all(|n| *n > 0), "{:?}", site.months);
    // Quieter school holidays: August is the quietest month of the year.
    let august = site
        .months
        .iter()
        .find(|(m, _)| m.ends_with("-08"))
        .map(|(_, n)| *n)
        .unwrap();
    assert!(
        site.months.values().filter(|n| **n < august).count() <= 1,
        "August, in the summer holidays, is among the quietest: {:?}",
        site.months
    );
    // One site asked, one site written.
    assert_eq!(history.sites.len(), 1);

    // The report over the history's days counts exactly what was written.
    let from = day_start(&history.first_day);
    let last: jiff::civil::Date = history.last_day.parse().unwrap();
    let to = day_start(&last.tomorrow().unwrap().to_string());
    let report = c.site_report(SITE, from, to).await.unwrap();
    let sessions: u64 = report.lines.iter().map(|l| l.sessions).sum();
    let supervised: u64 = report.lines.iter().map(|l| l.supervised).sum();
    let hours: f64 = report.lines.iter().map(|l| l.hours_used).sum();
    let people: u64 = report.lines.iter().map(|l| l.people).sum();
    assert_eq!(sessions, site.sessions);
    assert_eq!(supervised, site.supervised);
    assert!((hours - site.session_seconds as f64 / 3600.0).abs() < 1e-6);
    assert_eq!(people, site.people);
    // Each computer was up during its open hours except its few offline days.
    for seat in &report.seats {
        assert!(
            seat.availability > 0.9 && seat.availability < 1.0,
            "{}: {}",
            seat.hostname,
            seat.availability
        );
        assert!(seat.sessions > 0);
        // On only when open, in the history: its hours on are its open hours it reported.
        assert!(
            seat.hours_powered > 0.0 && seat.hours_powered <= seat.hours_available + 366.0,
            "{}: {} h on, {} h open",
            seat.hostname,
            seat.hours_powered,
            seat.hours_available
        );
    }
    // Month by month, as written.
    let months = c.site_months(SITE, to).await.unwrap();
    assert_eq!(months.len(), 12);
    for m in &months {
        assert_eq!(
            Some(&m.sessions),
            site.months.get(&m.month),
            "month {}",
            m.month
        );
    }
    // Occupancy by weekday and hour: Sunday never open, Tuesday afternoon busy.
    assert!((0..24).all(|h| report.heat.share(6, h).is_none()));
    assert!(report.heat.share(1, 15).unwrap() > 0.2, "{:?}", report.heat);
    assert!(report.heat.share(0, 9).is_none(), "Monday opens at 13:30");

    // The page says the same.
    c.create_staff("marie", "Marie", Role::Staff, &[SITE.to_string()], PASSWORD)
        .await
        .unwrap();
    let addr = serve_dashboard(c.clone()).await;
    let cookie = login(addr, "marie", PASSWORD).await;
    let path = format!(
        "/sites/{SITE}/rapports?du={}&au={}",
        history.first_day, history.last_day
    );
    let page = tokio::task::spawn_blocking(move || {
        http(addr, "GET", &path, &[("Cookie", cookie.as_str())], "")
    })
    .await
    .unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let sentence = format!(
        "{} sessions ({} en accès libre, {} accompagnées)",
        site.sessions,
        site.sessions - site.supervised,
        site.supervised
    );
    assert!(page.body.contains(&sentence), "{sentence}");
    assert!(page.body.contains("Tendance sur douze mois"));

    // In Chromium: the first report (the last 30 days), its charts, in French and English,
    // then printed on A4.
    let shots = commune_tests::browser::screenshots();
    let shot = |name: &str| shots.join(name).display().to_string();
    let scenario = json!({
        "baseUrl": format!("http://{addr}"),
        "user": "marie",
        "password": PASSWORD,
        "timeoutSecs": 120,
        "stepTimeoutSecs": 15,
        "steps": [
            {"viewport": {"width": 1280, "height": 900}},
            {"login": true},
            {"goto": format!("/sites/{SITE}/rapports")},
            {"expectText": "Accès libre et accompagnement"},
            {"expectText": "Occupation par jour et par heure"},
            {"expectText": "Tendance sur douze mois"},
            {"expectText": "Méthode : "},
            // Twelve months of bars, each month's figure in the table beside.
            {"expectJs": "document.querySelectorAll('svg.mois rect.libre').length === 12"},
            {"expectJs": "document.querySelectorAll('table.donnees').length === 2"},
            // The heat map's cells carry their number (never colour alone); Sunday is absent.
            {"expectJs": "document.querySelectorAll('svg.chaleur text').length > 40"},
            {"expectNoText": "0 sessions (0 en accès libre"},
            {"axe": true},
            {"screenshot": shot("rapport-graphiques.png")},
            {"media": "print"},
            {"expectJs": "getComputedStyle(document.querySelector('header')).display === 'none'"},
            {"expectJs": "getComputedStyle(document.querySelector('form.noprint')).display === 'none'"},
            {"expectJs": "getComputedStyle(document.querySelector('svg.mois')).display !== 'none'"},
            {"screenshot": shot("rapport-impression.png")},
            {"pdf": shot("rapport.pdf")},
            {"media": "screen"},
            {"click": "English"},
            {"expectText": "Trend over twelve months"},
            {"expectText": "Occupancy by day and hour"},
            {"axe": true},
            {"screenshot": shot("rapport-graphiques-en.png")},
        ],
    });
    commune_tests::browser::run(&scenario, std::time::Duration::from_secs(150), |_| async {}).await;
    let pdf = std::fs::read(shots.join("rapport.pdf")).expect("the printed report");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    // A4 pages: 595 × 842 points.
    let text = String::from_utf8_lossy(&pdf);
    assert!(
        text.contains("/MediaBox [0 0 594.96 841.92]") || text.contains("/MediaBox [0 0 595"),
        "printed on A4"
    );
    drop(dirs);
}
