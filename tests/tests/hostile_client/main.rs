//! The controller keeps serving every seat and every staff member while one client is
//! hostile. Each case runs a real controller and dashboard on loopback with well-behaved
//! bystanders (two enrolled agents running the real link code, one MDH staff account) and,
//! while the hostile client does its worst, checks that the bystanders' events keep being
//! stored and acknowledged and that the staff member can still log in and open a slot.

use std::net::SocketAddr;

use commune_controller::staff::Role;
use commune_tests::web::{form, http};
use commune_tests::*;

/// The well-behaved world around a hostile client.
pub struct Bystanders {
    /// The controller under attack.
    pub ctrl: TestController,
    /// Its dashboard.
    pub web: SocketAddr,
    /// Two seats of the site, connected.
    pub agents: Vec<TestAgent>,
    _dirs: Vec<tempfile::TempDir>,
    rounds: u32,
}

/// The bystander staff member.
pub const STAFF: &str = "accueil";
/// Their password.
pub const PASSWORD: &str = "un mot de passe assez long";

impl Bystanders {
    /// A controller (adjusted by `tweak`), its dashboard, two connected seats, one staff account.
    pub async fn start_with(tweak: impl FnOnce(&mut commune_controller::ControllerConfig)) -> Self {
        let ctrl = TestController::start_with(tweak).await;
        let web = web::serve_dashboard(ctrl.controller.clone()).await;
        ctrl.controller
            .create_staff(STAFF, "Accueil", Role::Staff, &[SITE.to_string()], PASSWORD)
            .await
            .expect("staff account");
        let mut agents = Vec::new();
        let mut dirs = Vec::new();
        for _ in 0..2 {
            let (config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
                .await
                .expect("enroll a bystander");
            let mut agent = TestAgent::start(config).await;
            agent.wait_connected(30).await;
            agents.push(agent);
            dirs.push(dir);
        }
        Bystanders {
            ctrl,
            web,
            agents,
            _dirs: dirs,
            rounds: 0,
        }
    }

    /// [`Bystanders::start_with`] the test settings.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Checks, within `secs`, that every bystander seat's new events are stored and
    /// acknowledged, and that the staff member logs in and opens a slot on one of them.
    pub async fn still_served(&mut self, secs: u64) {
        self.rounds += 1;
        for agent in &self.agents {
            let last = agent.produce(3).await;
            let id = agent.config.agent_id.clone();
            eventually(
                secs,
                &format!("bystander {id}: new events acknowledged"),
                || async { agent.acked() >= last },
            )
            .await;
            let stored = self.ctrl.controller.store().event_seqs(&id).await.unwrap();
            assert_eq!(
                stored,
                (1..=last).collect::<Vec<_>>(),
                "bystander {id}: every event stored once"
            );
        }
        let web = self.web;
        let seat = self.agents[0].config.agent_id.clone();
        let minutes = (30 + self.rounds).to_string();
        let reply = tokio::time::timeout(
            std::time::Duration::from_secs(secs),
            tokio::task::spawn_blocking(move || {
                let cookie = login_blocking(web, STAFF, PASSWORD);
                let page = http(
                    web,
                    "GET",
                    &format!("/sites/{SITE}/permanences"),
                    &[("Cookie", &cookie)],
                    "",
                );
                assert_eq!(
                    page.status, 200,
                    "the staff member sees the permanences page"
                );
                let csrf = page.csrf().expect("a CSRF token on the page");
                http(
                    web,
                    "POST",
                    &format!("/sites/{SITE}/creneaux"),
                    &[("Cookie", &cookie)],
                    &form(&[("csrf", &csrf), ("seat", &seat), ("minutes", &minutes)]),
                )
            }),
        )
        .await
        .expect("the staff member is served in time")
        .expect("staff requests");
        assert_eq!(reply.status, 303, "the slot opens: {}", reply.body);
    }
}

/// Logs in through the dashboard's login form (blocking); returns the session cookie.
pub fn login_blocking(web: SocketAddr, login: &str, password: &str) -> String {
    web::login_blocking(web, login, password)
}

// One module per family of hostile clients.
mod login;
mod network;
mod roles;
mod seat_data;
mod smoke;
