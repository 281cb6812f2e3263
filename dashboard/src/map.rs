//! The fleet at a glance, the staff's first page: per site, the seats as tiles with their
//! state (free, in session with the time left, supervised, closed, offline, blocked), the
//! counts of each state, and today's timeline (opening hours, permanences with their
//! mediator, closures, supervised slots opened from the dashboard).
//!
//! A state is never told by colour alone: each tile carries its state in words and a
//! symbol. The tiles and counts follow the seats live (`live.rs` sends a `tuiles` event;
//! the page's script updates the tiles and recounts); the time left counts down in the
//! browser from the end the seat reported, corrected by the server's clock. The timeline
//! is drawn in SVG (presentation attributes, so the Content-Security-Policy needs no inline
//! style) and written out as a list beside it, which is what screen readers read.

use std::collections::HashMap;

use commune_controller::help::OpenCall;
use commune_controller::AgentView;
use commune_protocol::messages::HelpNeed;
use commune_protocol::slots::{SiteSchedule, TimeRange};
use commune_protocol::UtcMillis;
use maud::{html, Markup};

use crate::i18n::{t, Lang};

/// What a tile shows of one seat.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Tile {
    /// The state's kind, also the tile's CSS class: `free`, `session`, `ending`,
    /// `supervised`, `closed`, `offline`, `blocked`, `revoked`, `unknown`.
    pub(crate) kind: &'static str,
    /// The state in words, in the page's language.
    pub(crate) label: String,
    /// The symbol shown beside the words.
    pub(crate) symbol: &'static str,
    /// When the running session ends on its own, if it has a limit.
    pub(crate) ends_at: Option<UtcMillis>,
    /// The same, as the site's clock shows it ("jusqu'à 15:42").
    pub(crate) until: Option<String>,
    /// The visitor's open call for a mediator: its need and time, never the screen.
    pub(crate) call: Option<TileCall>,
}

/// An open call on a tile, with what "Je m'en occupe" posts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct TileCall {
    /// The call's id.
    pub(crate) id: String,
    /// "Appel : impression — 14:32".
    pub(crate) text: String,
}

/// A need in words, in the page's language.
fn need_words(lang: Lang, need: HelpNeed) -> &'static str {
    t(
        lang,
        match need {
            HelpNeed::Printing => "impression",
            HelpNeed::Account => "compte ou mot de passe",
            HelpNeed::Form => "formulaire",
            HelpNeed::Other | HelpNeed::Unknown => "autre besoin",
        },
    )
}

/// "Appel : impression — 14:32".
fn call_text(lang: Lang, call: &OpenCall, zone: &str) -> String {
    format!(
        "{}{} — {}",
        t(lang, "Appel : "),
        need_words(lang, call.need),
        crate::local_time(call.called_at, zone, "%H:%M")
    )
}

/// The kinds in the order the counts list them, with their French names.
const KINDS: [(&str, &str); 9] = [
    ("free", "Libres"),
    ("session", "En session"),
    ("alarm", "Appareil branché"),
    ("ending", "En fin de session"),
    ("supervised", "Permanence"),
    ("closed", "Fermés"),
    ("offline", "Hors ligne"),
    ("blocked", "Bloqués"),
    ("unknown", "État inconnu"),
];

/// A symbol beside the words, for the eye; never the only sign.
fn symbol(kind: &str) -> &'static str {
    match kind {
        "free" => "✓",
        "session" => "●",
        "ending" => "…",
        "supervised" => "◆",
        "closed" => "✕",
        "offline" => "○",
        "blocked" => "⚠",
        "alarm" => "⛔",
        "revoked" => "–",
        _ => "?",
    }
}

/// A seat's tile: what it reported last, whether it is connected, revoked, and when its
/// session ends.
pub(crate) fn tile(
    lang: Lang,
    a: &AgentView,
    live: &HashMap<String, String>,
    ends: &HashMap<String, UtcMillis>,
    calls: &HashMap<String, OpenCall>,
    zone: &str,
) -> Tile {
    let id = &a.overview.agent.id;
    let state = crate::reported_state(a, live);
    let (kind, fr) = if a.overview.agent.revoked_at.is_some() {
        ("revoked", "Révoqué")
    } else if !a.connected {
        ("offline", "Hors ligne")
    } else {
        match state {
            Some("ready") => ("free", "Libre"),
            Some("in_session") => ("session", "En session"),
            Some("stepped_away") => ("session", "Visiteur absent"),
            Some("device_alarm") => ("alarm", "Appareil branché : à vérifier"),
            Some("ending") => ("ending", "Fin de session"),
            Some("wiping") => ("ending", "Effacement"),
            Some("supervised") => ("supervised", "Permanence"),
            Some("closed") => ("closed", "Fermé"),
            Some("blocked") => ("blocked", "Bloqué"),
            _ => ("unknown", "État inconnu"),
        }
    };
    let ends_at = (kind == "session" || kind == "ending")
        .then(|| ends.get(id).copied())
        .flatten();
    Tile {
        kind,
        label: t(lang, fr).to_string(),
        symbol: symbol(kind),
        ends_at,
        until: ends_at.map(|end| {
            format!(
                "{}{}",
                t(lang, "jusqu'à "),
                crate::local_time(end, zone, "%H:%M")
            )
        }),
        call: calls.get(id).map(|c| TileCall {
            id: c.call_id.clone(),
            text: call_text(lang, c, zone),
        }),
    }
}

/// The call on a tile: its need and time, and "Je m'en occupe" (the page's script builds
/// the same from a `tuiles` event).
fn call_markup(lang: Lang, seat: &str, call: Option<&TileCall>, csrf: &str) -> Markup {
    html! {
        div.appel role="status" data-call=(call.map(|c| c.id.as_str()).unwrap_or("")) {
            @if let Some(call) = call {
                span.appel-texte { (call.text) }
                form method="post" action={"/postes/" (seat) "/aide"} {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="appel" value=(call.id);
                    button type="submit" { (t(lang, "Je m'en occupe")) }
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct TakeForm {
    csrf: Option<String>,
    #[serde(default)]
    appel: String,
}

/// `POST /postes/{id}/aide`: a staff member takes the visitor's call; it leaves every
/// staff page and the visitor's screen says someone is coming.
pub(crate) async fn take_call(
    axum::extract::State(c): axum::extract::State<commune_controller::Controller>,
    axum::extract::Path(seat): axum::extract::Path<String>,
    staff: crate::auth::Staff,
    axum::Form(form): axum::Form<TakeForm>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    match c
        .staff_api(&staff.identity)
        .take_help_call(&seat, &form.appel)
        .await
    {
        Ok(_) => axum::response::Redirect::to("/").into_response(),
        Err(e) => crate::refusal::staff_error(staff.lang, "Appel non pris", &e),
    }
}

/// Minutes left until `end`, rounded up ("encore 1 min" in the last minute).
fn minutes_left(now: UtcMillis, end: UtcMillis) -> i64 {
    ((end.0 - now.0).max(0) + 59_999) / 60_000
}

/// "encore {} min": the page carries the template, the script fills it as time passes.
pub(crate) fn left_template(lang: Lang) -> &'static str {
    t(lang, "encore {} min")
}

fn tile_markup(lang: Lang, a: &AgentView, tile: &Tile, now: UtcMillis, csrf: &str) -> Markup {
    let o = &a.overview;
    html! {
        li.tile class=(tile.kind) data-tile=(o.agent.id) data-kind=(tile.kind) {
            a href={"/postes/" (o.agent.id)} {
                span.poste { (o.agent.hostname) }
                span.etat-tuile {
                    span.symbole aria-hidden="true" { (tile.symbol) } " "
                    span.libelle { (tile.label) }
                }
                span.fin {
                    @if let (Some(end), Some(until)) = (tile.ends_at, &tile.until) {
                        (until) " ("
                        span.reste data-ends=(end.0) { (left_template(lang).replace("{}", &minutes_left(now, end).to_string())) }
                        ")"
                    }
                }
            }
            (call_markup(lang, &o.agent.id, tile.call.as_ref(), csrf))
        }
    }
}

/// One site's section: counts, timeline, tiles.
// What the seats reported (states, session ends, calls) comes as separate maps, as the
// live stream reads them from the controller.
#[allow(clippy::too_many_arguments)]
pub(crate) fn site_section(
    lang: Lang,
    site: &commune_controller::store::SiteRecord,
    schedule: Option<&SiteSchedule>,
    seats: &[&AgentView],
    live: &HashMap<String, String>,
    ends: &HashMap<String, UtcMillis>,
    calls: &HashMap<String, OpenCall>,
    now: UtcMillis,
    csrf: &str,
) -> Markup {
    let zone = schedule
        .map(|s| s.time_zone.as_str())
        .unwrap_or(site.time_zone.as_str());
    let tiles: Vec<Tile> = seats
        .iter()
        .map(|a| tile(lang, a, live, ends, calls, zone))
        .collect();
    let count = |kind: &str| tiles.iter().filter(|t| t.kind == kind).count();
    let colon = if lang == Lang::Fr { " : " } else { ": " };
    html! {
        section.site aria-labelledby={"site-" (site.id)} data-site=(site.id) {
            h2 id={"site-" (site.id)} { (site.name) }
            // Every count is shown, zeros too, so a number never appears or vanishes
            // under the reader's eyes.
            ul.comptes aria-label=(t(lang, "Postes par état")) {
                @for (kind, fr) in KINDS {
                    li {
                        span.symbole aria-hidden="true" { (symbol(kind)) } " "
                        (t(lang, fr)) (colon)
                        strong data-count=(kind) { (count(kind)) }
                    }
                }
            }
            @if let Some(schedule) = schedule {
                (timeline(lang, schedule, now))
            }
            @if seats.is_empty() {
                p { (t(lang, "Aucun poste enrôlé sur ce site.")) }
            } @else {
                ul.tuiles aria-label=(t(lang, "Postes du site")) {
                    @for (a, tile) in seats.iter().zip(&tiles) {
                        (tile_markup(lang, a, tile, now, csrf))
                    }
                }
            }
        }
    }
}

/// One entry of a day's timeline, in local minutes from the day's midnight.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// `open`, `permanence`, `slot` or `closure`.
    pub(crate) kind: &'static str,
    /// First minute.
    pub(crate) from: u32,
    /// Minute after the last (up to 1440).
    pub(crate) until: u32,
    /// What it is, in words.
    pub(crate) text: String,
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The local minute of the day, in `zone`, of an instant that falls on `date` (clamped to
/// the day's bounds when it falls before or after).
fn minute_on(at: UtcMillis, date: jiff::civil::Date, zone: &jiff::tz::TimeZone) -> u32 {
    let Ok(ts) = jiff::Timestamp::from_millisecond(at.0) else {
        return 0;
    };
    let local = ts.to_zoned(zone.clone()).datetime();
    if local.date() < date {
        0
    } else if local.date() > date {
        1440
    } else {
        local.hour() as u32 * 60 + local.minute() as u32
    }
}

fn range_minutes(range: &TimeRange) -> (u32, u32) {
    let start = u32::from(range.start.minutes_since_midnight());
    let end = u32::from(range.end.minutes_since_midnight());
    // Past midnight: today's part only.
    (start, if end <= start { 1440 } else { end })
}

/// Today's entries of a site: a closure covering today, else the opening hours that start
/// today, the permanences that take place today, and the supervised slots opened for
/// today. Ordered by start.
pub(crate) fn day_entries(lang: Lang, schedule: &SiteSchedule, now: UtcMillis) -> Vec<Entry> {
    let Ok(zone) = jiff::tz::TimeZone::get(&schedule.time_zone) else {
        return Vec::new();
    };
    let Ok(now_ts) = jiff::Timestamp::from_millisecond(now.0) else {
        return Vec::new();
    };
    let date = now_ts.to_zoned(zone.clone()).date();
    let today: commune_protocol::slots::LocalDate = match date.to_string().parse() {
        Ok(d) => d,
        Err(_) => return Vec::new(),
    };
    let mut entries = Vec::new();
    if let Some(closure) = schedule
        .closures
        .iter()
        .find(|c| c.first_day <= today && today <= c.last_day)
    {
        entries.push(Entry {
            kind: "closure",
            from: 0,
            until: 1440,
            text: format!("{}{}", t(lang, "Fermé aujourd'hui : "), closure.label),
        });
        // A closure overrides everything else that day.
        return entries;
    }
    let seats = |list: &[String]| -> String {
        if list.is_empty() {
            String::new()
        } else {
            format!(" · {}{}", t(lang, "postes "), list.join(", "))
        }
    };
    let closed_on = |day: commune_protocol::slots::LocalDate| {
        schedule
            .closures
            .iter()
            .any(|c| c.first_day <= day && day <= c.last_day)
    };
    // Yesterday's hours that run past midnight open today's first hours.
    let yesterday = date.yesterday().ok().and_then(|d| {
        d.to_string()
            .parse::<commune_protocol::slots::LocalDate>()
            .ok()
    });
    let mut open: Vec<(u32, u32)> = Vec::new();
    if let Some(yesterday) = yesterday.filter(|d| !closed_on(*d)) {
        for range in schedule.opening_hours.on(yesterday.weekday()) {
            let end = u32::from(range.end.minutes_since_midnight());
            if range.end <= range.start && end > 0 {
                open.push((0, end));
            }
        }
    }
    for range in schedule.opening_hours.on(today.weekday()) {
        open.push(range_minutes(range));
    }
    // Ranges that meet (09:00–12:00 and 12:00–18:00, or a whole day written in two) are
    // shown as one.
    open.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (from, until) in open {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(until),
            _ => merged.push((from, until)),
        }
    }
    for (from, until) in merged {
        entries.push(Entry {
            kind: "open",
            from,
            until,
            text: format!("{}–{} {}", hhmm(from), hhmm(until), t(lang, "accès libre")),
        });
    }
    for p in schedule.permanences.iter().filter(|p| p.occurs_on(today)) {
        let (from, until) = range_minutes(&TimeRange {
            start: p.start,
            end: p.end,
        });
        let mediator = if p.mediator.is_empty() {
            String::new()
        } else {
            format!(" ({})", p.mediator)
        };
        entries.push(Entry {
            kind: "permanence",
            from,
            until,
            text: format!(
                "{}–{} {}{}{}",
                p.start,
                if p.end <= p.start {
                    format!("{} ({})", p.end, t(lang, "le lendemain"))
                } else {
                    p.end.to_string()
                },
                p.name,
                mediator,
                seats(&p.seats)
            ),
        });
    }
    for slot in &schedule.ad_hoc {
        let from = minute_on(slot.start, date, &zone);
        let until = minute_on(slot.end, date, &zone);
        if until == 0 || from >= 1440 || until <= from {
            continue;
        }
        let reference = slot.reference();
        let mediator = if slot.mediator.is_empty() {
            String::new()
        } else {
            format!(" ({})", slot.mediator)
        };
        entries.push(Entry {
            kind: "slot",
            from,
            until,
            text: format!(
                "{}–{} {}{}{}{}",
                hhmm(from),
                hhmm(until),
                t(lang, "créneau ouvert : "),
                reference.name,
                mediator,
                seats(&slot.seats)
            ),
        });
    }
    entries.sort_by_key(|e| (e.from, e.until));
    entries
}

/// The SVG row of each kind, top to bottom.
const ROWS: [(&str, &str); 4] = [
    ("closure", "Fermeture"),
    ("open", "Accès libre"),
    ("permanence", "Permanences"),
    ("slot", "Créneaux ouverts"),
];

/// Today's timeline: a drawing (hidden from screen readers) and the same as a list.
fn timeline(lang: Lang, schedule: &SiteSchedule, now: UtcMillis) -> Markup {
    let entries = day_entries(lang, schedule, now);
    let zone = jiff::tz::TimeZone::get(&schedule.time_zone).ok();
    let now_minute = zone
        .as_ref()
        .and_then(|z| {
            let ts = jiff::Timestamp::from_millisecond(now.0).ok()?;
            let local = ts.to_zoned(z.clone());
            Some(local.hour() as u32 * 60 + local.minute() as u32)
        })
        .unwrap_or(0);
    let rows: Vec<(&str, &str)> = ROWS
        .iter()
        .copied()
        .filter(|(kind, _)| entries.iter().any(|e| e.kind == *kind))
        .collect();
    let height = 30 + rows.len() as u32 * 30;
    html! {
        div.journee {
            h3 { (t(lang, "Aujourd'hui")) }
            @if entries.is_empty() {
                p { (t(lang, "Fermé aujourd'hui : pas d'horaires d'ouverture ni de permanence.")) }
            } @else {
                svg.frise viewBox={"0 0 1600 " (height)} width="100%" aria-hidden="true" focusable="false" {
                    @for h in (0..=24).step_by(3) {
                        line x1=(140 + h * 60) y1="0" x2=(140 + h * 60) y2=(height - 24) stroke="#ccc" {}
                        text x=(140 + h * 60) y=(height - 4) font-size="20" text-anchor="middle" fill="#3a3a3a" { (format!("{h:02}h")) }
                    }
                    @for (i, (kind, fr)) in rows.iter().enumerate() {
                        text x="0" y=(i as u32 * 30 + 21) font-size="20" fill="#1b1b1b" { (t(lang, fr)) }
                        @for e in entries.iter().filter(|e| e.kind == *kind) {
                            rect class=(e.kind) x=(140 + e.from) y=(i as u32 * 30 + 3) width=(e.until.saturating_sub(e.from).max(2)) height="24" rx="4" {}
                        }
                    }
                    line.maintenant x1=(140 + now_minute) y1="0" x2=(140 + now_minute) y2=(height - 24) stroke="#000" stroke-width="3" {}
                }
                ul.programme {
                    @for e in &entries {
                        li class=(e.kind) { (e.text) }
                    }
                    li { (t(lang, "Maintenant : ")) (hhmm(now_minute)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commune_protocol::slots::{AdHocSlot, Closure, Permanence, Programme, WeeklyHours};

    fn at(local: &str) -> UtcMillis {
        let zoned: jiff::Zoned = format!("{local}[Europe/Paris]").parse().unwrap();
        UtcMillis(zoned.timestamp().as_millisecond())
    }

    fn site() -> SiteSchedule {
        let r = |a: &str, b: &str| TimeRange {
            start: a.parse().unwrap(),
            end: b.parse().unwrap(),
        };
        SiteSchedule {
            opening_hours: WeeklyHours {
                tuesday: vec![r("09:00", "12:00"), r("14:00", "18:00")],
                friday: vec![r("22:00", "02:00")],
                ..Default::default()
            },
            permanences: vec![Permanence {
                id: "ep".into(),
                name: "Écrivain public".into(),
                programme: Programme::from("france_services"),
                weekdays: vec![commune_protocol::slots::Weekday::Tuesday],
                start: "14:00".parse().unwrap(),
                end: "17:00".parse().unwrap(),
                seats: vec!["p2".into()],
                mediator: "Mme Roux".into(),
                valid_from: None,
                valid_until: None,
            }],
            ad_hoc: vec![AdHocSlot {
                id: "x".into(),
                seats: vec!["p1".into()],
                start: at("2026-12-08T10:15"),
                end: at("2026-12-08T11:00"),
                permanence: None,
                name: Some("Atelier CAF".into()),
                mediator: "Karim".into(),
            }],
            closures: vec![Closure {
                label: "Noël".into(),
                first_day: "2026-12-24".parse().unwrap(),
                last_day: "2026-12-26".parse().unwrap(),
            }],
            ..SiteSchedule::always_open("Europe/Paris")
        }
    }

    #[test]
    fn a_day_with_hours_a_permanence_and_a_slot() {
        let entries = day_entries(Lang::Fr, &site(), at("2026-12-08T10:30"));
        let texts: Vec<&str> = entries.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "09:00–12:00 accès libre",
                "10:15–11:00 créneau ouvert : Atelier CAF (Karim) · postes p1",
                "14:00–17:00 Écrivain public (Mme Roux) · postes p2",
                "14:00–18:00 accès libre",
            ]
        );
        assert_eq!((entries[1].from, entries[1].until), (615, 660));
    }

    #[test]
    fn a_closure_wins_and_hours_past_midnight_say_so() {
        let closed = day_entries(Lang::Fr, &site(), at("2026-12-25T10:00"));
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].text, "Fermé aujourd'hui : Noël");
        let friday = day_entries(Lang::En, &site(), at("2026-12-11T23:00"));
        assert_eq!(friday[0].text, "22:00–24:00 free access");
        assert_eq!((friday[0].from, friday[0].until), (1320, 1440));
        // Friday night's hours open Saturday's first two.
        let saturday = day_entries(Lang::Fr, &site(), at("2026-12-12T01:00"));
        assert_eq!(saturday.len(), 1);
        assert_eq!(saturday[0].text, "00:00–02:00 accès libre");
        // A whole day written in two ranges is one.
        let always = SiteSchedule::always_open("Europe/Paris");
        let whole = day_entries(Lang::Fr, &always, at("2026-12-12T01:00"));
        assert_eq!(whole[0].text, "00:00–24:00 accès libre");
        // Another day's slot is not today's.
        let wednesday = day_entries(Lang::Fr, &site(), at("2026-12-09T10:00"));
        assert!(wednesday.is_empty(), "{wednesday:?}");
    }

    #[test]
    fn minutes_left_round_up() {
        assert_eq!(minutes_left(UtcMillis(0), UtcMillis(1)), 1);
        assert_eq!(minutes_left(UtcMillis(0), UtcMillis(60_000)), 1);
        assert_eq!(minutes_left(UtcMillis(0), UtcMillis(60_001)), 2);
        assert_eq!(minutes_left(UtcMillis(5), UtcMillis(0)), 0);
    }
}
