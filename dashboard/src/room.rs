//! `/salle/{site}`: the room display, for a television in the MDH's waiting area. No
//! login (a television has no one to log in), so it shows nothing about anyone: how many
//! computers are free or busy, when the next one should free up, and which are held for
//! a permanence. Only for a site whose schedule says `room_display = true`; any other
//! address is a 404 that does not say whether the site exists. It reads the wait the
//! controller keeps in memory ([`commune_controller::wait`]): no store read, whatever
//! the number of requests; the page updates itself every 20 s ([`ROOM_JS`]; not a
//! `<meta refresh>`, which WCAG refuses). French first, then English and Arabic, in
//! large type.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use commune_controller::Controller;
use maud::{html, DOCTYPE};

/// The room display's script: every 20 s, the page is fetched again and its `main`
/// replaced (no reload, no flash on the television). Allowed by its hash in the CSP.
pub(crate) const ROOM_JS: &str = "setInterval(function(){fetch(location.href,{cache:'no-store'})\
.then(function(r){return r.ok?r.text():null;}).then(function(t){if(!t)return;\
var m=new DOMParser().parseFromString(t,'text/html').querySelector('main');\
if(m)document.querySelector('main').replaceWith(m);}).catch(function(){});},20000);";

/// `GET /salle/{site}`.
pub(crate) async fn room(State(c): State<Controller>, Path(site): Path<String>) -> Response {
    let Some(view) = c.site_wait(&site).filter(|v| v.room_display) else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            axum::response::Html(
                "<!DOCTYPE html><html lang=\"fr\"><head><title>Page introuvable</title></head>\
                 <body><main><h1>Page introuvable</h1></main></body></html>",
            ),
        )
            .into_response();
    };
    let wait = &view.wait;
    let at = |t| crate::local_time(t, &view.time_zone, "%H:%M");
    let body = html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Ordinateurs — " (view.site_name) }
                style { (maud::PreEscaped(crate::CSS)) }
            }
            body.salle {
                main #contenu {
                    h1 { "Ordinateurs en accès libre — " (view.site_name) }
                    p.maintenant { "Mis à jour à " (at(wait.at)) }
                    @if wait.free_seats > 0 {
                        p.grand.libre {
                            "✓ " (wait.free_seats) " "
                            (if wait.free_seats == 1 { "ordinateur libre" } else { "ordinateurs libres" })
                            " : adressez-vous à l'accueil."
                        }
                        p.autres lang="en" { (wait.free_seats) " free: please ask at the front desk." }
                        p.autres lang="ar" dir="rtl" { "الحواسيب المتاحة: " (wait.free_seats) ". اسأل مكتب الاستقبال." }
                    } @else if wait.busy_seats > 0 {
                        p.grand.occupe { "● Tous les ordinateurs sont occupés." }
                        p.autres lang="en" { "All computers are busy." }
                        p.autres lang="ar" dir="rtl" { "كل الحواسيب مشغولة الآن." }
                        @if let Some(next) = wait.next_free_at {
                            p.grand { "Le prochain devrait se libérer vers " strong { (at(next)) } "." }
                            p.autres lang="en" { "The next one should be free at about " (at(next)) "." }
                            p.autres lang="ar" dir="rtl" { "من المتوقع أن يتحرر الحاسوب التالي حوالي الساعة " bdi dir="ltr" { (at(next)) } "." }
                        }
                    } @else {
                        p.grand { "Aucun ordinateur en accès libre pour le moment." }
                        p.autres lang="en" { "No computer in free access right now." }
                    }
                    @if !wait.reserved.is_empty() {
                        h2 { "Réservés pour une permanence" }
                        p.autres lang="en" { "Reserved for a help session" }
                        ul.reserves {
                            @for r in &wait.reserved {
                                li {
                                    strong { (r.seat) }
                                    @if !r.permanence.is_empty() { " — " (r.permanence) }
                                    @if let Some(until) = r.until { ", jusqu'à " (at(until)) }
                                }
                            }
                        }
                    }
                    p.busy { (wait.busy_seats) " en session · " (wait.free_seats) " libre(s) · " (wait.reserved.len()) " réservé(s)" }
                }
                script { (maud::PreEscaped(ROOM_JS)) }
            }
        }
    };
    axum::response::Html(body.into_string()).into_response()
}
