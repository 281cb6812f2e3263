//! The screens' HTML (maud). Every page: the language and direction on `<html>`, a skip
//! link, one `<h1>`, large targets, nothing that moves on its own except the countdown.

use commune_protocol::messages::{SeatState, SlotKind, WipeReport};
use commune_protocol::UtcMillis;
use fluent_bundle::FluentValue;
use maud::{html, Markup, DOCTYPE};

use super::i18n::{Tr, LANGUAGES};
use crate::help::Call;
use crate::manager::{SessionInfo, Status};
use crate::print::{PrintView, Verdict};
use commune_protocol::messages::HelpNeed;

/// `data-page` tells the script what to follow: `ready`, `wait`, `session`, `wiping`, or
/// nothing (a page that never moves by itself, like the charter).
fn page(
    t: Tr<'_>,
    title: &str,
    data_page: Option<&str>,
    state: Option<SeatState>,
    body: Markup,
) -> Markup {
    page_closing(t, title, data_page, state, None, body)
}

/// [`page`], saying whether it shows the closing warning (the script reloads a page that
/// says so when that changes; a page that does not say is never reloaded for it).
fn page_closing(
    t: Tr<'_>,
    title: &str,
    data_page: Option<&str>,
    state: Option<SeatState>,
    closing: Option<bool>,
    body: Markup,
) -> Markup {
    let state = state.map(seat_state_name);
    html! {
        (DOCTYPE)
        html lang=(t.lang.code) dir=(t.lang.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (t.t("page-title")) }
                link rel="stylesheet" href="/kiosk.css";
                @if data_page.is_some() {
                    script src="/kiosk.js" defer {}
                }
            }
            body data-lang=(t.lang.code) data-page=[data_page] data-state=[state]
                data-closing=[closing.map(|c| if c { "1" } else { "0" })] {
                a.skip href="#main" { (t.t("skip-to-content")) }
                header {
                    a.change-language href="/" { (t.t("change-language")) }
                }
                main #main tabindex="-1" {
                    (body)
                }
            }
        }
    }
}

fn seat_state_name(state: SeatState) -> &'static str {
    match state {
        SeatState::Ready => "ready",
        SeatState::InSession => "in_session",
        SeatState::Wiping => "wiping",
        SeatState::Closed => "closed",
        SeatState::Blocked => "blocked",
        SeatState::Supervised => "supervised",
        SeatState::SteppedAway => "stepped_away",
        SeatState::DeviceAlarm => "device_alarm",
        _ => "unknown",
    }
}

/// A time of the site's day, `HH:MM`, and the date, `DD/MM`, in the site's time zone
/// (the computer's own when the schedule names none).
fn local(at: UtcMillis, time_zone: &str) -> Option<jiff::Zoned> {
    let ts = jiff::Timestamp::from_millisecond(at.0).ok()?;
    let tz = if time_zone.is_empty() {
        jiff::tz::TimeZone::system()
    } else {
        jiff::tz::TimeZone::get(time_zone).unwrap_or_else(|_| jiff::tz::TimeZone::system())
    };
    Some(ts.to_zoned(tz))
}

fn hhmm(at: UtcMillis, time_zone: &str) -> String {
    local(at, time_zone)
        .map(|z| z.strftime("%H:%M").to_string())
        .unwrap_or_default()
}

fn text(s: String) -> FluentValue<'static> {
    FluentValue::from(s)
}

/// `12:34` or `1:02:03`.
fn clock(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// The language choice: each name in its own script and direction.
fn languages(t: Tr<'_>) -> Markup {
    html! {
        section.languages aria-labelledby="languages-title" {
            h2 #languages-title { (t.t("choose-language")) }
            ul.language-list {
                @for l in LANGUAGES {
                    li {
                        a.button.language href={ "/" (l.code) "/" } lang=(l.code) dir=(l.dir()) hreflang=(l.code)
                            aria-current=[(l.code == t.lang.code).then_some("true")] {
                            (l.name)
                        }
                    }
                }
            }
        }
    }
}

/// The closed, blocked and wiping blocks (the greeter shows them instead of "start").
fn unavailable(t: Tr<'_>, status: &Status) -> Option<Markup> {
    let block = unavailable_block(t, status)?;
    let wait = (status.state != SeatState::Wiping)
        .then(|| wait_block(t, status))
        .flatten();
    Some(html! { (block) @if let Some(wait) = wait { (wait) } })
}

fn unavailable_block(t: Tr<'_>, status: &Status) -> Option<Markup> {
    match status.state {
        SeatState::Closed => {
            let greeter = &status.greeter;
            let when = greeter.reopens_at.and_then(|at| {
                let tz = &greeter.time_zone;
                let then = local(at, tz)?;
                let now = local(crate::now(), tz)?;
                let time = text(then.strftime("%H:%M").to_string());
                let days = (then.date() - now.date()).get_days();
                Some(match days {
                    0 => t.with("closed-reopens-today", &[("time", time)]),
                    1 => t.with("closed-reopens-tomorrow", &[("time", time)]),
                    _ => t.with(
                        "closed-reopens-on",
                        &[
                            ("date", text(then.strftime("%d/%m").to_string())),
                            ("time", time),
                        ],
                    ),
                })
            });
            // A seat closed by staff shows their message.
            let staff = greeter.staff_message.as_ref();
            Some(html! {
                section.notice.closed {
                    h1 { (t.t("closed-title")) }
                    @if let Some(when) = when {
                        p.big { (when) }
                    } @else {
                        p { (t.t("closed-unknown")) }
                    }
                    @if let Some(message) = staff {
                        p { (t.with("closed-staff-message", &[("message", text(message.clone()))])) }
                    }
                    p { (t.t("closed-ask")) }
                }
            })
        }
        SeatState::Blocked => Some(html! {
            section.notice.blocked {
                h1 { (t.t("blocked-title")) }
                p.big { (t.t("blocked-text")) }
                p { (t.t("blocked-ask")) }
            }
        }),
        SeatState::Wiping => Some(wiping(t)),
        SeatState::DeviceAlarm => Some(device_alarm(t, status, None)),
        _ => None,
    }
}

/// The site closes soon: at what time, that sessions end then, and the site's own words.
fn closing_block(t: Tr<'_>, status: &Status) -> Option<Markup> {
    let at = status.greeter.closing_at?;
    let message = &status.greeter.closing_message;
    Some(html! {
        section.warning.closing role="status" aria-labelledby="closing-title" {
            h2 #closing-title { (t.t("closing-title")) }
            p.big { (t.with("closing-at", &[("time", text(hhmm(at, &status.greeter.time_zone)))])) }
            @if !message.is_empty() {
                p lang="fr" { bdi { (message) } }
            }
        }
    })
}

/// How busy the site's other seats are, for a visitor this seat cannot serve now: free
/// seats, or when the next one should free up, and the seats held for a permanence.
fn wait_block(t: Tr<'_>, status: &Status) -> Option<Markup> {
    let wait = status.site_wait.as_ref()?;
    let tz = status.greeter.time_zone.as_str();
    if wait.free_seats == 0 && wait.busy_seats == 0 && wait.reserved.is_empty() {
        return None;
    }
    Some(html! {
        section.wait aria-labelledby="wait-title" {
            h2 #wait-title { (t.t("wait-title")) }
            @if wait.free_seats > 0 {
                p.big { (t.with("wait-free", &[("count", FluentValue::from(wait.free_seats))])) }
            } @else if wait.busy_seats > 0 {
                p.big { (t.t("wait-all-busy")) }
                @if let Some(at) = wait.next_free_at {
                    p { (t.with("wait-next", &[("time", text(hhmm(at, tz)))])) }
                }
            }
            @if !wait.reserved.is_empty() {
                p { (t.t("wait-reserved")) }
                ul {
                    @for r in &wait.reserved {
                        li {
                            bdi dir="ltr" { (r.seat) }
                            @if !r.permanence.is_empty() {
                                " — "
                                @if let Some(until) = r.until {
                                    (t.with("wait-reserved-until", &[
                                        ("permanence", text(r.permanence.clone())),
                                        ("time", text(hhmm(until, tz))),
                                    ]))
                                } @else {
                                    (r.permanence)
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// A device was plugged in since the seat was checked: nobody may use it until staff
/// look; a mediator may accept the devices here with the site's PIN.
fn device_alarm(t: Tr<'_>, status: &Status, error: Option<&str>) -> Markup {
    let lang = t.lang.code;
    html! {
        section.notice.blocked.alarm {
            h1 { (t.t("alarm-title")) }
            p.big { (t.t("alarm-text")) }
            p { strong { (t.t("alarm-no-password")) } }
            p { (t.t("alarm-ask")) }
            @if let Some(what) = &status.device_alarm {
                p.hint { (t.t("alarm-device")) " " bdi dir="ltr" { (what) } }
            }
            @if status.session.is_none() {
                section.mediator aria-labelledby="alarm-staff-title" {
                    h2 #alarm-staff-title { (t.t("alarm-staff-title")) }
                    @if let Some(id) = error {
                        div.error #error role="alert" { p { (t.t(id)) } }
                    }
                    form method="post" action={ "/" (lang) "/verification" } {
                        label for="alarm-pin" { (t.t("alarm-staff-label")) }
                        input #alarm-pin type="password" name="pin" inputmode="numeric" autocomplete="off" required
                            aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "error")];
                        button.button.primary type="submit" { (t.t("alarm-staff-submit")) }
                    }
                }
            }
        }
    }
}

/// "This computer was checked on …": when staff last looked at its devices.
fn checked_line(t: Tr<'_>, status: &Status) -> Option<Markup> {
    let at = status.devices_checked_at?;
    let when = local(at, &status.greeter.time_zone)?;
    Some(html! {
        p.hint.checked {
            (t.with("checked-on", &[
                ("date", text(when.strftime("%d/%m/%Y").to_string())),
                ("time", text(when.strftime("%H:%M").to_string())),
            ]))
        }
    })
}

fn wiping(t: Tr<'_>) -> Markup {
    html! {
        section.notice.wiping role="status" {
            h1 { (t.t("wiping-title")) }
            p.big { (t.t("wiping-text")) }
        }
    }
}

/// The previous visitor's wipe, in one line: what the next visitor may trust.
fn erased_summary(t: Tr<'_>, report: &WipeReport) -> Markup {
    html! {
        @if report.verified {
            p.ok {
                (t.with("erased-checked", &[
                    ("checks", FluentValue::from(report.checks.iter().filter(|c| c.passed).count())),
                    ("seconds", FluentValue::from(format!("{:.1}", report.total_us as f64 / 1e6))),
                ]))
            }
        } @else {
            p.error { (t.t("erased-failed")) }
        }
    }
}

/// The welcome: the state of the seat first, then (on `/`) the language choice.
pub(super) fn welcome(
    t: Tr<'_>,
    status: &Status,
    choose: bool,
    report: Option<&WipeReport>,
) -> Markup {
    let data_page = if status.state == SeatState::Wiping {
        "wiping"
    } else {
        "ready"
    };
    let body = html! {
        // On `/`, the language choice comes first: a visitor who cannot read French finds
        // their language before anything else.
        @if choose {
            (languages(t))
        }
        @if let Some(closing) = closing_block(t, status) {
            (closing)
        }
        @if let Some(report) = report {
            section.notice.previous aria-labelledby="previous-title" {
                h2 #previous-title { (t.t("erased-title")) }
                (erased_summary(t, report))
            }
        }
        @if let Some(block) = unavailable(t, status) {
            (block)
        } @else {
            section.welcome {
                h1 { (t.t("welcome-title")) }
                p.big { (t.t("welcome-text")) }
                p { (t.t("welcome-free")) }
                p { a.button.primary href={ "/" (t.lang.code) "/charte" } { (t.t("welcome-start")) } }
            }
        }
        @if let Some(line) = checked_line(t, status) {
            (line)
        }
        (help_link(t))
    };
    page_closing(
        t,
        &t.t("welcome-title"),
        Some(data_page),
        Some(status.state),
        Some(status.greeter.closing_at.is_some()),
        body,
    )
}

/// The charter, in plain language: what is and is not recorded. No time limit, no script.
/// Where the site refuses USB sticks, the rule about keeping documents does not suggest one.
pub(super) fn charter(t: Tr<'_>, usb_refused: bool) -> Markup {
    let list = |prefix: &str, n: usize| {
        html! {
            ul {
                @for i in 1..=n {
                    @let id = format!("{prefix}-{i}");
                    @if usb_refused && id == "charter-rules-3" {
                        li { (t.t("charter-rules-3-no-usb")) }
                    } @else {
                        li { (t.t(&id)) }
                    }
                }
            }
        }
    };
    let body = html! {
        h1 { (t.t("charter-title")) }
        p.big { (t.t("charter-summary")) }
        section aria-labelledby="recorded" {
            h2 #recorded { (t.t("charter-recorded-title")) }
            (list("charter-recorded", 3))
        }
        section aria-labelledby="not-recorded" {
            h2 #not-recorded { (t.t("charter-not-recorded-title")) }
            (list("charter-not-recorded", 4))
        }
        section aria-labelledby="rules" {
            h2 #rules { (t.t("charter-rules-title")) }
            (list("charter-rules", 5))
        }
        p { (t.t("charter-help")) }
        p.hint { (t.t("charter-no-hurry")) }
        p { a.button.primary href={ "/" (t.lang.code) "/acces" } { (t.t("charter-accept")) } }
    };
    page(t, &t.t("charter-title"), None, None, body)
}

/// Opening a session: the ticket form, the bare button, or "your mediator will open your
/// session" with the mediator's PIN form; `error` names the message of a refusal, `typed`
/// is the code the visitor typed (kept, so that a typo is corrected, not retyped).
pub(super) fn access(
    t: Tr<'_>,
    status: &Status,
    error: Option<&str>,
    typed: Option<&str>,
) -> Markup {
    let lang = t.lang.code;
    let greeter = &status.greeter;
    let error_block = error.map(|id| {
        html! {
            div.error #error role="alert" {
                h2 { (t.t("error-title")) }
                p { (t.t(id)) }
            }
        }
    });
    if status.state == SeatState::DeviceAlarm {
        let body = html! {
            (device_alarm(t, status, error))
            @if let Some(wait) = wait_block(t, status) { (wait) }
        };
        return page(
            t,
            &t.t("alarm-title"),
            Some("ready"),
            Some(status.state),
            body,
        );
    }
    if let Some(block) = unavailable(t, status) {
        let data_page = if status.state == SeatState::Wiping {
            "wiping"
        } else {
            "ready"
        };
        let body = html! { @if let Some(e) = &error_block { (e) } (block) };
        return page(
            t,
            &t.t("start-title"),
            Some(data_page),
            Some(status.state),
            body,
        );
    }
    if status.state == SeatState::Supervised {
        let body = html! {
            h1 { (t.t("supervised-title")) }
            p.big { (t.t("supervised-text")) }
            p { (t.t("supervised-wait")) }
            @if let Some(name) = &greeter.permanence {
                p { (t.with("supervised-permanence", &[("name", text(name.clone()))])) }
            }
            @if let Some(wait) = wait_block(t, status) { (wait) }
            (help_link(t))
            section.mediator aria-labelledby="mediator-title" {
                h2 #mediator-title { (t.t("mediator-title")) }
                @if let Some(e) = &error_block { (e) }
                form method="post" action={ "/" (lang) "/mediateur" } {
                    label for="pin" { (t.t("mediator-label")) }
                    input #pin type="password" name="pin" inputmode="numeric" autocomplete="off" required
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "error")];
                    button.button.primary type="submit" { (t.t("mediator-submit")) }
                }
            }
        };
        return page(
            t,
            &t.t("supervised-title"),
            Some("wait"),
            Some(status.state),
            body,
        );
    }
    let length = match (greeter.session_minutes, greeter.slot_ends_at) {
        (_, Some(end)) if greeter.ends_with_slot(crate::now()) => Some(t.with(
            "start-until",
            &[("time", text(hhmm(end, &greeter.time_zone)))],
        )),
        (Some(minutes), _) => {
            Some(t.with("start-length", &[("minutes", FluentValue::from(minutes))]))
        }
        _ => None,
    };
    let body = html! {
        h1 { (t.t("start-title")) }
        @if let Some(closing) = closing_block(t, status) {
            (closing)
        }
        @if let Some(length) = length { p.big { (length) } }
        @if let Some(e) = &error_block { (e) }
        form method="post" action={ "/" (lang) "/acces" } {
            @if greeter.ticket_required {
                p { (t.t("ticket-text")) }
                label for="ticket" { (t.t("ticket-label")) }
                p.hint #ticket-hint { (t.t("ticket-hint")) }
                input #ticket type="text" name="ticket" autocomplete="off" autocapitalize="characters"
                    spellcheck="false" required dir="ltr" lang="en" value=[typed]
                    aria-invalid=[error.map(|_| "true")]
                    aria-describedby=(if error.is_some() { "ticket-hint error" } else { "ticket-hint" });
            }
            button.button.primary type="submit" { (t.t("start-submit")) }
        }
        @if greeter.ticket_required {
            p { (t.t("ticket-none")) }
        }
        (help_link(t))
    };
    page_closing(
        t,
        &t.t("start-title"),
        Some("ready"),
        Some(status.state),
        Some(status.greeter.closing_at.is_some()),
        body,
    )
}

/// `sent` or `taken` for an open call, `none` without one: what the script compares with
/// `/etat.json` to show the change at once.
pub(super) fn help_state(call: Option<&Call>) -> &'static str {
    match call {
        Some(c) if c.taken => "taken",
        Some(_) => "sent",
        None => "none",
    }
}

fn need_message(need: HelpNeed) -> &'static str {
    match need {
        HelpNeed::Printing => "help-need-printing",
        HelpNeed::Account => "help-need-account",
        HelpNeed::Form => "help-need-form",
        HelpNeed::Other | HelpNeed::Unknown => "help-need-other",
    }
}

/// "Call a mediator", on the greeter's pages (the call's state is on its own page).
fn help_link(t: Tr<'_>) -> Markup {
    html! {
        p.help-call { a.button href={ "/" (t.lang.code) "/aide" } { (t.t("help-call")) } }
    }
}

/// The open call (sent, or taken: someone is coming) with its cancel button, or the
/// button that leads to the needs. The script reloads the page when the state changes.
fn help_box(t: Tr<'_>, call: Option<&Call>) -> Markup {
    let lang = t.lang.code;
    html! {
        section #help-box .help aria-labelledby="help-box-title" data-help=(help_state(call)) {
            @if let Some(call) = call {
                @if call.taken {
                    h2 #help-box-title { (t.t("help-taken-title")) }
                    p.big { (t.t("help-taken-text")) }
                } @else {
                    h2 #help-box-title { (t.t("help-sent-title")) }
                    p.big { (t.t("help-sent-text")) }
                }
                p { (t.t("help-your-need")) " " strong { (t.t(need_message(call.need))) } }
                form method="post" action={ "/" (lang) "/aide/annuler" } {
                    button.button type="submit" { (t.t("help-cancel")) }
                }
            } @else {
                h2 #help-box-title .visually-hidden { (t.t("help-title")) }
                p { a.button href={ "/" (lang) "/aide" } { (t.t("help-call")) } }
            }
        }
    }
}

/// Calling a mediator: the four needs (nothing else is sent), or the open call.
pub(super) fn help(t: Tr<'_>, status: &Status, call: Option<&Call>, error: Option<&str>) -> Markup {
    let lang = t.lang.code;
    let in_session = status.session.is_some();
    let body = html! {
        h1 { (t.t("help-title")) }
        @if let Some(id) = error {
            div.error #error role="alert" {
                p { (t.t(id)) }
            }
        }
        @if call.is_some() {
            (help_box(t, call))
        } @else {
            p.big { (t.t("help-text")) }
            p { (t.t("help-private")) }
            form.needs method="post" action={ "/" (lang) "/aide" } {
                fieldset {
                    legend { (t.t("help-choose")) }
                    @for need in HelpNeed::CHOICES {
                        button.button.primary type="submit" name="besoin" value=(need.as_str()) {
                            (t.t(need_message(need)))
                        }
                    }
                }
            }
        }
        @if in_session {
            p { a.button href={ "/" (lang) "/session" } { (t.t("help-back")) } }
        } @else {
            p { a.button href={ "/" (lang) "/" } { (t.t("erased-home")) } }
        }
    };
    let data_page = if in_session { "session" } else { "ready" };
    page(
        t,
        &t.t("help-title"),
        Some(data_page),
        Some(status.state),
        body,
    )
}

/// The session's print jobs waiting for the visitor: each job's pages (counted by the
/// agent, not by what the visitor chose), the free pages left, and "print" or "cancel";
/// a job beyond the free pages, or uncounted, waits for staff and can only be
/// cancelled here. `error` names the message of a refused step. The script reloads the
/// notice when the jobs change (`data-print`).
pub(super) fn print_box(t: Tr<'_>, view: &PrintView, error: Option<&str>) -> Markup {
    let lang = t.lang.code;
    html! {
        section #print-box .print aria-labelledby="print-title" data-print=(view.signature()) {
            @if !view.jobs.is_empty() || error.is_some() {
                h2 #print-title { (t.t("print-title")) }
                p { (t.t("print-held")) }
                @if let Some(left) = view.left {
                    p.big { (t.with("print-left", &[("pages", FluentValue::from(left))])) }
                }
                @if let Some(id) = error {
                    div.error #print-error role="alert" { p { (t.t(id)) } }
                }
                ul.print-jobs {
                    @for job in &view.jobs {
                        li.print-job {
                            h3 { (t.with("print-job", &[("job", FluentValue::from(job.job))])) }
                            @if let Some(pages) = job.pages {
                                p.big { (t.with("print-pages", &[("pages", FluentValue::from(pages))])) }
                            } @else {
                                p.big { (t.t("print-uncounted")) }
                            }
                            @match job.verdict {
                                Verdict::Visitor => {}
                                Verdict::BeyondQuota => p { (t.t("print-beyond")) },
                                Verdict::Uncounted => p { (t.t("print-staff")) },
                            }
                            form.print-actions method="post" action={ "/" (lang) "/impression" } {
                                input type="hidden" name="travail" value=(job.job);
                                @if job.verdict == Verdict::Visitor {
                                    button.button.primary type="submit" name="action" value="imprimer" { (t.t("print-confirm")) }
                                }
                                button.button type="submit" name="action" value="annuler" { (t.t("print-cancel")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The notice during the session; `error` names the message of a refused step-away,
/// `call` the visitor's call for a mediator, `print` the print jobs waiting (none when
/// the computer does not print).
pub(super) fn session(
    t: Tr<'_>,
    info: &SessionInfo,
    status: &Status,
    error: Option<&str>,
    call: Option<&Call>,
    print: Option<Markup>,
) -> Markup {
    let time_zone = status.greeter.time_zone.as_str();
    let step_away = status.greeter.step_away_minutes;
    let lang = t.lang.code;
    let seconds = info.seconds_left_now();
    let ends = seconds.map(|s| UtcMillis(crate::now().0 + i64::try_from(s).unwrap_or(0) * 1000));
    let warning = info
        .warning
        .map(|m| if m <= 1 { "warning-1" } else { "warning-5" });
    let body = html! {
        h1 { (t.t("session-title")) }
        @if let Some(closing) = closing_block(t, status) {
            (closing)
        }
        @if info.kind == SlotKind::Supervised {
            p { (t.t("session-supervised")) }
        }
        @if let Some(seconds) = seconds {
            p.label #countdown-label { (t.t("session-time-left")) }
            p.countdown {
                span #countdown role="timer" aria-labelledby="countdown-label" data-seconds=(seconds) dir="ltr" {
                    (clock(seconds))
                }
            }
            @if let Some(ends) = ends {
                p { (t.with("session-ends-at", &[("time", text(hhmm(ends, time_zone)))])) }
            }
        } @else {
            p.big { (t.t("session-no-limit")) }
        }
        div #warning-box role="alert" data-warning=[info.warning]
            data-w5=(t.t("warning-5")) data-w1=(t.t("warning-1")) data-title=(t.t("warning-title")) {
            @if let Some(id) = warning {
                div.warning {
                    h2 { (t.t("warning-title")) }
                    p.big { (t.t(id)) }
                }
            }
        }
        @if status.state == SeatState::DeviceAlarm {
            (device_alarm(t, status, None))
        }
        // A stick plugged in was switched off (the site refuses them): say why it does not
        // appear, for a few minutes.
        @if status.usb_refused_at.is_some_and(|at| crate::now().0 - at.0 < 5 * 60_000) {
            div.warning role="status" {
                p { (t.t("usb-refused")) }
            }
        }
        @if let Some(print) = print {
            (print)
        }
        (help_box(t, call))
        nav.actions {
            a.button href={ "/" (lang) "/fin" } { (t.t("session-documents")) }
            a.button.danger href={ "/" (lang) "/fin" } { (t.t("session-end-now")) }
        }
        @if step_away > 0 {
            section.away-form aria-labelledby="away-title" {
                h2 #away-title { (t.t("away-title")) }
                p { (t.with("away-explain", &[("minutes", FluentValue::from(step_away))])) }
                @if let Some(id) = error {
                    div.error #error role="alert" { p { (t.t(id)) } }
                }
                form method="post" action={ "/" (lang) "/pause" } {
                    label for="away-code" { (t.t("away-code-label")) }
                    p.hint #away-code-hint { (t.t("away-code-hint")) }
                    input #away-code type="password" name="code" inputmode="numeric" autocomplete="off"
                        pattern="[0-9]{4,8}" minlength="4" maxlength="8" required dir="ltr"
                        aria-describedby=(if error.is_some() { "away-code-hint error" } else { "away-code-hint" })
                        aria-invalid=[error.map(|_| "true")];
                    label for="away-again" { (t.t("away-again-label")) }
                    input #away-again type="password" name="again" inputmode="numeric" autocomplete="off"
                        pattern="[0-9]{4,8}" minlength="4" maxlength="8" required dir="ltr";
                    button.button.primary type="submit" { (t.t("away-submit")) }
                }
            }
        }
    };
    page_closing(
        t,
        &t.t("session-title"),
        Some("session"),
        Some(status.state),
        Some(status.greeter.closing_at.is_some()),
        body,
    )
}

/// The paused session: locked with the visitor's code; the pause's countdown; the code to
/// come back (`error`: a wrong one, with the tries left).
pub(super) fn away(t: Tr<'_>, info: &SessionInfo, status: &Status, error: Option<&str>) -> Markup {
    let lang = t.lang.code;
    let seconds = info.away_seconds_left().unwrap_or(0);
    let until = UtcMillis(crate::now().0 + i64::try_from(seconds).unwrap_or(0) * 1000);
    let tries = info.away_tries_left.unwrap_or(0);
    let body = html! {
        h1 { (t.t("away-locked-title")) }
        p.big { (t.t("away-locked-text")) }
        p.label #countdown-label { (t.t("away-time-left")) }
        p.countdown {
            span #countdown role="timer" aria-labelledby="countdown-label" data-seconds=(seconds) dir="ltr" {
                (clock(seconds))
            }
        }
        p { (t.with("away-until", &[("time", text(hhmm(until, &status.greeter.time_zone)))])) }
        p { (t.t("away-erased-after")) }
        @if let Some(id) = error {
            div.error #error role="alert" {
                p { (t.t(id)) }
                p { (t.with("away-tries-left", &[("tries", FluentValue::from(tries))])) }
            }
        }
        form method="post" action={ "/" (lang) "/reprendre" } {
            label for="back-code" { (t.t("away-back-label")) }
            input #back-code type="password" name="code" inputmode="numeric" autocomplete="off" required dir="ltr"
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "error")];
            button.button.primary type="submit" { (t.t("away-back-submit")) }
        }
    };
    page(
        t,
        &t.t("away-locked-title"),
        Some("away"),
        Some(status.state),
        body,
    )
}

/// What the documents list offers for "send to my phone".
pub(super) struct PhoneOffer<'a> {
    /// The site allows it.
    pub allowed: bool,
    /// The controller is reachable and keeps documents for phones.
    pub available: bool,
    /// The documents already sent in this session.
    pub sent: &'a [crate::handoff::Shown],
    /// The site's time zone (the links' end).
    pub time_zone: &'a str,
    /// Why the last sending failed (a message id).
    pub error: Option<&'a str>,
}

/// Before ending: the documents that will be erased and the ways to keep them (each one
/// can go to the visitor's phone, where the site allows it).
pub(super) fn end(
    t: Tr<'_>,
    documents: &[String],
    usb_refused: bool,
    phone: &PhoneOffer<'_>,
) -> Markup {
    let lang = t.lang.code;
    let can_send = phone.allowed && phone.available;
    let body = html! {
        h1 { (t.t("end-title")) }
        @if let Some(id) = phone.error {
            div.error #error role="alert" tabindex="-1" { p { (t.t(id)) } }
        }
        section aria-labelledby="documents-title" {
            h2 #documents-title { (t.t("end-documents-title")) }
            @if documents.is_empty() {
                p { (t.t("end-documents-none")) }
            } @else {
                @if phone.allowed && !phone.available {
                    p.hint { (t.t("phone-offline")) }
                }
                ul.documents {
                    @for (i, d) in documents.iter().enumerate() {
                        li {
                            bdi #{ "doc-" (i) } { (d) }
                            @if can_send {
                                form.inline method="post" action={ "/" (lang) "/telephone" } {
                                    input type="hidden" name="document" value=(d);
                                    button.button type="submit" aria-describedby={ "doc-" (i) } {
                                        (t.t("phone-send"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !usb_refused && !documents.is_empty() {
            section aria-labelledby="usb-title" {
                h2 #usb-title { (t.t("usb-copy-title")) }
                p { (t.t("usb-copy-explain")) }
                form method="post" action={ "/" (lang) "/cle" } {
                    fieldset {
                        legend { (t.t("usb-copy-choose")) }
                        @for (i, d) in documents.iter().enumerate() {
                            div.check {
                                input type="checkbox" id={ "usb-" (i) } name={ "d" (i) } value=(d) checked;
                                label for={ "usb-" (i) } { bdi { (d) } }
                            }
                        }
                    }
                    button.button.primary type="submit" { (t.t("usb-copy-submit")) }
                }
            }
        }
        @if !phone.sent.is_empty() {
            section aria-labelledby="sent-title" {
                h2 #sent-title { (t.t("phone-sent-title")) }
                ul {
                    @for sent in phone.sent {
                        li {
                            bdi { (sent.document) } " — "
                            (t.with("phone-until", &[("time", text(hhmm(sent.expires_at, phone.time_zone)))]))
                        }
                    }
                }
                p { a.button href={ "/" (lang) "/telephone" } { (t.t("phone-show-again")) } }
            }
        }
        section aria-labelledby="keep-title" {
            h2 #keep-title { (t.t("end-keep-title")) }
            ul {
                @if phone.allowed {
                    li { (t.t("end-keep-phone")) }
                }
                @if !usb_refused {
                    li { (t.t("end-keep-usb")) }
                }
                li { (t.t("end-keep-print")) }
                li { (t.t("end-keep-mail")) }
            }
        }
        form method="post" action={ "/" (lang) "/fin" } {
            button.button.danger type="submit" { (t.t("end-confirm")) }
        }
        p { a.button href={ "/" (lang) "/session" } { (t.t("end-back")) } }
    };
    page(
        t,
        &t.t("end-title"),
        Some("session"),
        Some(SeatState::InSession),
        body,
    )
}

/// "Copied to your USB stick": how many, and that it may be pulled out.
pub(super) fn usb_done(t: Tr<'_>, files: usize) -> Markup {
    let lang = t.lang.code;
    let body = html! {
        h1 { (t.t("usb-done-title")) }
        p.big role="status" { (t.with("usb-done-count", &[("count", FluentValue::from(files))])) }
        p.big { (t.t("usb-done-remove")) }
        p { (t.t("phone-still-erased")) }
        p { a.button.primary href={ "/" (lang) "/fin" } { (t.t("phone-back")) } }
    };
    page(
        t,
        &t.t("usb-done-title"),
        Some("session"),
        Some(SeatState::InSession),
        body,
    )
}

/// The link's QR code as inline SVG (no XML declaration), black on white with its quiet
/// zone; `None` if the link is too long for a QR code.
fn qr_svg(link: &str) -> Option<String> {
    use qrcode::render::svg;
    let code =
        qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(280, 280)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    let start = image.find("<svg")?;
    Some(image[start..].to_owned())
}

/// "Send to my phone", done: the QR code to scan, the address, until when it works, and
/// that the document is sealed.
pub(super) fn phone(t: Tr<'_>, shown: &crate::handoff::Shown, time_zone: &str) -> Markup {
    let lang = t.lang.code;
    let qr = qr_svg(&shown.link);
    let body = html! {
        h1 { (t.t("phone-title")) }
        p.big { bdi { (shown.document) } }
        @if let Some(svg) = qr {
            figure.qr {
                div.qr-code role="img" aria-label=(t.t("phone-qr-label")) {
                    (maud::PreEscaped(svg))
                }
                figcaption { (t.t("phone-scan")) }
            }
        }
        p { (t.t("phone-link-label")) }
        p.link dir="ltr" { a #phone-link href=(shown.link) { (shown.link) } }
        p.big { (t.with("phone-once", &[("time", text(hhmm(shown.expires_at, time_zone)))])) }
        p { (t.t("phone-private")) }
        p { (t.t("phone-still-erased")) }
        p { a.button.primary href={ "/" (lang) "/fin" } { (t.t("phone-back")) } }
    };
    page(
        t,
        &t.t("phone-title"),
        Some("session"),
        Some(SeatState::InSession),
        body,
    )
}

/// After the end: "your session has been erased" with the report's summary (or "erasing"
/// while the wipe runs).
pub(super) fn erased(t: Tr<'_>, status: &Status, report: Option<&WipeReport>) -> Markup {
    if status.state == SeatState::Wiping {
        return page(
            t,
            &t.t("wiping-title"),
            Some("wiping"),
            Some(status.state),
            wiping(t),
        );
    }
    let verified = report.is_some_and(|r| r.verified) && status.state != SeatState::Blocked;
    let body = html! {
        @if verified {
            h1 { (t.t("erased-title")) }
            p.big { (t.t("erased-text")) }
        } @else {
            h1 { (t.t("blocked-title")) }
        }
        @if let Some(report) = report {
            (erased_summary(t, report))
        }
        @if verified {
            p { (t.t("erased-thanks")) }
        }
        p { a.button.primary href="/" { (t.t("erased-home")) } }
    };
    page(t, &t.t("erased-title"), None, Some(status.state), body)
}

/// An address the screens do not have (in French: the kiosk's language by default).
pub(super) fn not_found() -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" dir="ltr" {
            head {
                meta charset="utf-8";
                title { "Page introuvable" }
                link rel="stylesheet" href="/kiosk.css";
            }
            body {
                main {
                    h1 { "Page introuvable" }
                    p { a.button.primary href="/" { "Retour à l'accueil" } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_site_time_zone() {
        // 2026-11-23 08:25 UTC is 09:25 in Grenoble.
        let at = UtcMillis(1_795_422_300_000);
        assert_eq!(hhmm(at, "Europe/Paris"), "09:25");
        assert_eq!(clock(59), "00:59");
        assert_eq!(clock(3_725), "1:02:05");
    }
}
