//! Live seat states for the fleet page, by server-sent events: on every connection,
//! disconnection or state change the controller reports, the person's seats and their state
//! text (the same pair the page renders, in the person's language) go down the stream.

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

async fn snapshot(
    c: &Controller,
    who: &StaffIdentity,
    lang: Lang,
) -> HashMap<String, (String, &'static str)> {
    let live = c.live_seat_states();
    c.fleet()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| who.may_act_on(&a.overview.agent.site_id))
        .map(|a| {
            (
                a.overview.agent.id.clone(),
                crate::seat_state(lang, &a, &live),
            )
        })
        .collect()
}

pub(crate) async fn events(State(c): State<Controller>, lang: Lang, staff: Staff) -> Response {
    let changes = c.seat_changes();
    let stream = futures_util::stream::unfold(
        (c, changes, staff.identity, true),
        move |(c, mut changes, who, first)| async move {
            if !first {
                changes.changed().await.ok()?;
                // Several changes in a burst (a session starting) make one event.
                tokio::time::sleep(Duration::from_millis(100)).await;
                changes.borrow_and_update();
            }
            let states = snapshot(&c, &who, lang).await;
            let event = Event::default().json_data(states).unwrap_or_default();
            Some((Ok::<_, Infallible>(event), (c, changes, who, false)))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
