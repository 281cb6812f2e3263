//! Live seat states for the fleet page, by server-sent events: on every connection,
//! disconnection, state change or moved session end the controller reports, the person's
//! seats go down the stream twice: their state text for the table (the same pair the page
//! renders, in the person's language; the unnamed event) and their tile for the seat map
//! (`event: tuiles`, see `map.rs`).
//!
//! The stream lives as long as the page, so it checks the person again on every change and
//! every [`RECHECK`]: it ends when their session ends (logout, expiry, an admin ending it,
//! a password change elsewhere), when their account is disabled, or when their role or
//! sites change. The browser's `EventSource` then reconnects and is sent to the login page.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use commune_controller::staff::StaffIdentity;
use commune_controller::Controller;
use futures_util::StreamExt;

use crate::auth::Staff;
use crate::i18n::Lang;

/// How often a quiet stream checks that its session still holds.
pub(crate) const RECHECK: Duration = Duration::from_secs(3);

/// Changes within this time make one event: a seat flipping its state as fast as it can
/// costs each stream one fleet view per period.
const COALESCE: Duration = Duration::from_secs(1);

/// Live streams one account may hold open at once (each holds a connection); a tab more
/// gets `429` and the page simply does not update live.
pub(crate) const STREAMS_PER_ACCOUNT: usize = 8;

static STREAMS: std::sync::LazyLock<std::sync::Mutex<HashMap<String, usize>>> =
    std::sync::LazyLock::new(Default::default);

/// One open stream of an account, counted until dropped.
struct Open(String);

impl Open {
    fn take(login: &str) -> Option<Open> {
        let mut open = STREAMS.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(login.to_string()).or_default();
        if *n >= STREAMS_PER_ACCOUNT {
            return None;
        }
        *n += 1;
        Some(Open(login.to_string()))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut open = STREAMS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.0) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}

/// The seat map's tiles of a change: the server's clock (the page corrects its countdown
/// by it) and each seat's tile.
#[derive(serde::Serialize)]
struct Tiles {
    now: i64,
    seats: HashMap<String, crate::map::Tile>,
}

/// The two events of a change: the table's state texts (the unnamed event) and the seat
/// map's tiles (`tuiles`).
async fn snapshot(c: &Controller, who: &StaffIdentity, lang: Lang) -> [Event; 2] {
    let live = c.live_seat_states();
    let ends = c.live_session_ends();
    let calls = c.open_help_calls();
    let api = c.staff_api(who);
    let fleet = api.fleet().await.unwrap_or_default();
    let mut zones: HashMap<String, String> = HashMap::new();
    let mut states = HashMap::with_capacity(fleet.len());
    let mut tiles = HashMap::with_capacity(fleet.len());
    for a in &fleet {
        let site = &a.overview.agent.site_id;
        if !zones.contains_key(site) {
            zones.insert(site.clone(), api.time_zone(site).await);
        }
        let zone = zones
            .get(site)
            .map(String::as_str)
            .unwrap_or("Europe/Paris");
        let id = a.overview.agent.id.clone();
        states.insert(id.clone(), crate::seat_state(lang, a, &live));
        tiles.insert(id, crate::map::tile(lang, a, &live, &ends, &calls, zone));
    }
    let tiles = Tiles {
        now: commune_controller::now().0,
        seats: tiles,
    };
    [
        Event::default().json_data(states).unwrap_or_default(),
        Event::default()
            .event("tuiles")
            .json_data(tiles)
            .unwrap_or_default(),
    ]
}

pub(crate) async fn events(State(c): State<Controller>, lang: Lang, staff: Staff) -> Response {
    let Some(open) = Open::take(&staff.identity.login) else {
        return axum::http::StatusCode::TOO_MANY_REQUESTS.into_response();
    };
    let changes = c.seat_changes();
    let stream = futures_util::stream::unfold(
        (c, changes, staff.identity, true, open),
        move |(c, mut changes, who, first, open)| async move {
            if !first {
                loop {
                    tokio::select! {
                        changed = changes.changed() => {
                            changed.ok()?;
                            // Several changes in a burst (a session starting) make one event.
                            tokio::time::sleep(COALESCE).await;
                            changes.borrow_and_update();
                            break;
                        }
                        _ = tokio::time::sleep(RECHECK) => {
                            c.staff_api(&who).recheck().await.ok()?;
                        }
                    }
                }
                c.staff_api(&who).recheck().await.ok()?;
            }
            let events = snapshot(&c, &who, lang).await;
            Some((events, (c, changes, who, false, open)))
        },
    )
    .flat_map(|events| futures_util::stream::iter(events.map(Ok::<_, Infallible>)));
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
