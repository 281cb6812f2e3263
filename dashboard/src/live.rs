//! Live seat states for the fleet page, by server-sent events: on every connection,
//! disconnection or state change the controller reports, the person's seats and their state
//! text (the same pair the page renders, in the person's language) go down the stream.
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

async fn snapshot(
    c: &Controller,
    who: &StaffIdentity,
    lang: Lang,
) -> HashMap<String, (String, &'static str)> {
    let live = c.live_seat_states();
    c.staff_api(who)
        .fleet()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            (
                a.overview.agent.id.clone(),
                crate::seat_state(lang, &a, &live),
            )
        })
        .collect()
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
            let states = snapshot(&c, &who, lang).await;
            let event = Event::default().json_data(states).unwrap_or_default();
            Some((Ok::<_, Infallible>(event), (c, changes, who, false, open)))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
