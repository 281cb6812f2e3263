//! The staff API: every staff action and every staff view of the fleet, checked against the
//! person's role and sites and written to the audit log here, for the dashboard and the
//! command line alike. Callers pass who is asking; they repeat no guard.
//!
//! Actions are audited under their name (`slot.open`, `tickets.create`…), refusals as
//! `<name>.refused` with the reason. Views are not audited (a page load is not an action),
//! but a refused view is, and so is every export of figures.

use commune_protocol::health::Inventory;
use commune_protocol::messages::{CommandAction, SlotKind};
use commune_protocol::slots::{compile_between, SiteSchedule};
use commune_protocol::UtcMillis;

use super::{Refusal, Right, StaffError, StaffIdentity};
use crate::alerts::FleetAlert;
use crate::lieux::{FieldProblem, NationalExport, SiteCheck, SiteDetails};
use crate::reports::SiteReport;
use crate::store::{AgentRecord, SessionRecord, SiteRecord};
use crate::{now, AgentView, CommandRecord, Controller};

/// The longest slot name staff may type, in characters.
pub const MAX_SLOT_NAME_CHARS: usize = 100;

/// The longest permanence id counters may name, in characters.
pub const MAX_COUNTER_PERMANENCE_CHARS: usize = 64;

/// The counters' line for accompanied sessions outside any named permanence (the reports'
/// key for them).
pub const OTHER_ACCOMPANIED: &str = "accompagne";

/// A person's handle on the controller: every staff action and view, checked against
/// their role and sites and written to the audit log (actions as `slot.open`…, refusals as
/// `slot.open.refused`; views only when refused; exports always).
#[derive(Debug, Clone, Copy)]
pub struct StaffApi<'a> {
    pub(super) c: &'a Controller,
    pub(super) who: &'a StaffIdentity,
}

impl Controller {
    /// The staff API acting as `who`.
    pub fn staff_api<'a>(&'a self, who: &'a StaffIdentity) -> StaffApi<'a> {
        StaffApi { c: self, who }
    }
}

/// A site's page: its schedule, its computers, and which open slots the person may change.
#[derive(Debug, Clone)]
pub struct SiteView {
    /// The site's model (seats filled in) and version.
    pub schedule: SiteSchedule,
    /// The site's computers.
    pub seats: Vec<AgentView>,
    /// Ids of the supervised slots opened now that the person may extend or close.
    pub changeable_slots: Vec<String>,
}

/// One computer's page.
#[derive(Debug, Clone)]
pub struct SeatView {
    /// The computer.
    pub agent: AgentRecord,
    /// Health over the last day: `(at, cpu %, memory used %)`, oldest first.
    pub health: Vec<(UtcMillis, f64, f64)>,
    /// Latest inventory.
    pub inventory: Option<Inventory>,
    /// Sessions of the last 30 days, newest first (20 at most).
    pub sessions: Vec<SessionRecord>,
    /// Latest wipe reports, `(at, body JSON)`, newest first.
    pub wipes: Vec<(UtcMillis, String)>,
    /// The site's time zone.
    pub time_zone: String,
}

impl<'a> StaffApi<'a> {
    /// Who is asking.
    pub fn identity(&self) -> &'a StaffIdentity {
        self.who
    }

    /// Checks again that the person's credential holds and that their role and sites are
    /// unchanged, for requests that outlive a moment (the live stream).
    pub async fn recheck(&self) -> Result<(), StaffError> {
        match self.c.current_identity(self.who).await {
            Some(current) if current.same_rights(self.who) => Ok(()),
            _ => Err(StaffError::Unauthenticated),
        }
    }

    // --- Checks and the audit log -----------------------------------------------------

    /// Whether the person may do `right` (at `site`, when there is one).
    fn check(&self, right: Right, site: Option<&str>) -> Result<(), Refusal> {
        if !self.who.may(right) {
            return Err(Refusal::NotYourRole);
        }
        match site {
            Some(site) if !self.who.may_act_on(site) => Err(Refusal::NotYourSite),
            _ => Ok(()),
        }
    }

    /// [`Self::check`], with a refusal written to the audit log.
    pub(super) async fn allow(
        &self,
        action: &str,
        right: Right,
        site: Option<&str>,
    ) -> Result<(), StaffError> {
        match self.check(right, site) {
            Ok(()) => Ok(()),
            Err(refusal) => Err(self.refuse(action, site, refusal).await),
        }
    }

    /// Writes a refusal to the audit log; the error to return.
    pub(super) async fn refuse(
        &self,
        action: &str,
        site: Option<&str>,
        refusal: Refusal,
    ) -> StaffError {
        self.c
            .record(
                &self.who.login,
                &format!("{action}.refused"),
                site,
                &self.detail(&refusal.to_string()),
            )
            .await;
        StaffError::Forbidden(refusal)
    }

    /// Writes a done action to the audit log.
    pub(super) async fn done(&self, action: &str, site: Option<&str>, detail: &str) {
        self.c
            .record(&self.who.login, action, site, &self.detail(detail))
            .await;
    }

    /// The detail, with the way the person came when it is an API token.
    fn detail(&self, detail: &str) -> String {
        if self.who.via.starts_with("api:") {
            format!("{detail} (via {})", self.who.via)
        } else {
            detail.to_string()
        }
    }

    /// The computer `seat`, refused unless it belongs to `site`.
    async fn seat_of(&self, action: &str, site: &str, seat: &str) -> Result<(), StaffError> {
        match self.c.store().agent(seat).await? {
            Some(agent) if agent.site_id == site => Ok(()),
            _ => Err(self
                .refuse(action, Some(site), Refusal::SeatNotOfSite)
                .await),
        }
    }

    // --- Views -----------------------------------------------------------------------

    /// The person's sites.
    pub async fn sites(&self) -> Result<Vec<SiteRecord>, StaffError> {
        if !self.who.may(Right::SeeFleet) {
            return Ok(Vec::new());
        }
        Ok(self
            .c
            .store()
            .sites()
            .await?
            .into_iter()
            .filter(|s| self.who.may_act_on(&s.id))
            .collect())
    }

    /// The computers of the person's sites.
    pub async fn fleet(&self) -> Result<Vec<AgentView>, StaffError> {
        if !self.who.may(Right::SeeFleet) {
            return Ok(Vec::new());
        }
        Ok(self
            .c
            .fleet()
            .await?
            .into_iter()
            .filter(|a| self.who.may_act_on(&a.overview.agent.site_id))
            .collect())
    }

    /// The alerts of the person's sites.
    pub async fn alerts(&self) -> Result<Vec<FleetAlert>, StaffError> {
        if !self.who.may(Right::SeeFleet) {
            return Ok(Vec::new());
        }
        Ok(self
            .c
            .fleet_alerts()
            .await?
            .into_iter()
            .filter(|a| self.who.may_act_on(&a.site_id))
            .collect())
    }

    /// A site's schedule and version.
    pub async fn schedule(&self, site: &str) -> Result<(SiteSchedule, u64), StaffError> {
        self.allow("schedule.view", Right::SeeFleet, Some(site))
            .await?;
        Ok(self.c.site_schedule(site).await?)
    }

    /// One computer's compiled slots, as pushed (`None`: the site has no schedule).
    pub async fn seat_schedule(
        &self,
        site: &str,
        seat: &str,
    ) -> Result<Option<commune_protocol::schedule::Schedule>, StaffError> {
        self.allow("schedule.view", Right::SeeFleet, Some(site))
            .await?;
        self.seat_of("schedule.view", site, seat).await?;
        Ok(self.c.seat_schedule(site, seat).await?)
    }

    /// The time zone of one of the person's sites (Europe/Paris when it has none).
    pub async fn time_zone(&self, site: &str) -> String {
        if !self.who.may_act_on(site) {
            return "Europe/Paris".into();
        }
        self.c
            .site_schedule(site)
            .await
            .map(|(model, _)| model.time_zone)
            .unwrap_or_else(|_| "Europe/Paris".into())
    }

    /// The permanences page of a site.
    pub async fn site(&self, site: &str) -> Result<SiteView, StaffError> {
        self.allow("permanences.view", Right::SeeFleet, Some(site))
            .await?;
        let (schedule, _) = self.c.site_schedule(site).await?;
        let seats = self
            .c
            .fleet()
            .await?
            .into_iter()
            .filter(|a| a.overview.agent.site_id == site)
            .collect();
        let at = now();
        let mut changeable_slots = Vec::new();
        let openers = self.c.store().slot_openers(site).await?;
        for slot in schedule.ad_hoc.iter().filter(|s| s.end > at) {
            if self.may_change_slot(site, &slot.id, &openers) {
                changeable_slots.push(slot.id.clone());
            }
        }
        Ok(SiteView {
            schedule,
            seats,
            changeable_slots,
        })
    }

    /// One computer's page; `NotFound` for a computer of another site (whether it exists
    /// elsewhere is not told).
    pub async fn seat(&self, id: &str) -> Result<SeatView, StaffError> {
        let unknown = || StaffError::NotFound(format!("no computer `{id}`"));
        let agent = self.c.store().agent(id).await?.ok_or_else(unknown)?;
        if let Err(refusal) = self.check(Right::SeeFleet, Some(&agent.site_id)) {
            self.refuse("seat.view", Some(&agent.site_id), refusal)
                .await;
            return Err(unknown());
        }
        let at = now();
        let store = self.c.store();
        let health = store
            .health_history(id, UtcMillis(at.0 - 86_400_000), 500)
            .await
            .unwrap_or_default();
        let inventory = store.inventory(id).await.ok().flatten();
        let sessions = store
            .sessions(UtcMillis(at.0 - 30 * 86_400_000), at)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.agent_id == id)
            .rev()
            .take(20)
            .collect();
        let wipes = store
            .recent_events(id, "wipe_report", 10)
            .await
            .unwrap_or_default();
        let time_zone = self.time_zone(&agent.site_id).await;
        Ok(SeatView {
            agent,
            health,
            inventory,
            sessions,
            wipes,
            time_zone,
        })
    }

    // --- Supervised slots ------------------------------------------------------------

    /// Whether the person may extend or close the slot `slot_id` of `site`, knowing who
    /// opened the site's slots.
    fn may_change_slot(&self, site: &str, slot_id: &str, openers: &[(String, String)]) -> bool {
        if self.check(Right::ChangeAnySlot, Some(site)).is_ok() {
            return true;
        }
        self.check(Right::ChangeOwnSlot, Some(site)).is_ok()
            && openers
                .iter()
                .any(|(slot, login)| slot == slot_id && *login == self.who.login)
    }

    /// Opens a supervised slot now on `seats` of `site` until `until`; its id. `mediator`
    /// is the name shown (the person's by default).
    pub async fn open_slot(
        &self,
        site: &str,
        seats: &[String],
        until: UtcMillis,
        name: Option<String>,
        mediator: Option<String>,
    ) -> Result<String, StaffError> {
        self.allow("slot.open", Right::OpenSlot, Some(site)).await?;
        if seats.is_empty() {
            return Err(StaffError::Invalid("choose at least one computer".into()));
        }
        if name
            .as_deref()
            .is_some_and(|n| n.chars().count() > MAX_SLOT_NAME_CHARS)
        {
            return Err(StaffError::Invalid(format!(
                "a slot's name is {MAX_SLOT_NAME_CHARS} characters at most"
            )));
        }
        for seat in seats {
            self.seat_of("slot.open", site, seat).await?;
        }
        self.seats_free_for_slot(site, seats).await?;
        // Named after whoever opens it, unless the command line names someone (or nobody).
        let mediator = match mediator {
            Some(m) => Some(m),
            None if self.who.credential == super::Credential::Cli => None,
            None => Some(self.who.display_name.clone()),
        };
        let id = self
            .c
            .open_supervised_slot(site, seats, until, name, mediator)
            .await?;
        self.c
            .store()
            .record_slot_opener(site, &id, &self.who.login, now())
            .await?;
        self.done(
            "slot.open",
            Some(site),
            &format!("{id}: {} seat(s) until {until}", seats.len()),
        )
        .await;
        Ok(id)
    }

    async fn allow_slot_change(
        &self,
        action: &str,
        site: &str,
        slot: &str,
    ) -> Result<(), StaffError> {
        self.allow(action, Right::ChangeOwnSlot, Some(site)).await?;
        let openers = self.c.store().slot_openers(site).await?;
        if !self.may_change_slot(site, slot, &openers) {
            return Err(self.refuse(action, Some(site), Refusal::NotYourSlot).await);
        }
        // Only a slot open now: extending one that ended would open it again.
        let (model, _) = self.c.site_schedule(site).await?;
        if !model.ad_hoc.iter().any(|s| s.id == slot && s.end > now()) {
            return Err(StaffError::NotFound(format!(
                "no supervised slot `{slot}` open now at {site}"
            )));
        }
        Ok(())
    }

    /// Moves the end of a supervised slot opened now to `until`.
    pub async fn extend_slot(
        &self,
        site: &str,
        slot: &str,
        until: UtcMillis,
    ) -> Result<(), StaffError> {
        self.allow_slot_change("slot.extend", site, slot).await?;
        self.c.set_slot_end(site, slot, until).await?;
        self.done("slot.extend", Some(site), &format!("{slot} until {until}"))
            .await;
        Ok(())
    }

    /// Closes a supervised slot opened now.
    pub async fn close_slot(&self, site: &str, slot: &str) -> Result<(), StaffError> {
        self.allow_slot_change("slot.close", site, slot).await?;
        let at = now();
        self.c.set_slot_end(site, slot, at).await?;
        self.done("slot.close", Some(site), &format!("{slot} at {at}"))
            .await;
        Ok(())
    }

    // --- Visitors' sessions ----------------------------------------------------------

    /// Checks that the person may start or end a session on `seat` of `site`: staff on any
    /// computer of their sites; a mediator on a computer in a supervised slot now that is a
    /// permanence of the schedule or a slot they opened, and, to end one, not a free-access
    /// session.
    async fn allow_session(
        &self,
        action: &str,
        site: &str,
        seat: &str,
        ending: bool,
    ) -> Result<(), StaffError> {
        self.allow(action, Right::SuperviseSession, Some(site))
            .await?;
        self.seat_of(action, site, seat).await?;
        if self.who.may(Right::AnySession) {
            return Ok(());
        }
        let at = now();
        let (model, _) = self.c.site_schedule(site).await?;
        let openers = self.c.store().slot_openers(site).await?;
        let current = compile_between(&model, seat, at, UtcMillis(at.0 + 1))
            .ok()
            .and_then(|slots| slots.into_iter().find(|s| s.start <= at && at < s.end));
        let theirs = current.is_some_and(|slot| {
            slot.kind == SlotKind::Supervised
                && slot.permanence.is_some_and(|p| {
                    model.permanences.iter().any(|q| q.id == p.id)
                        || openers
                            .iter()
                            .any(|(id, login)| *id == p.id && *login == self.who.login)
                })
        });
        if !theirs {
            return Err(self
                .refuse(action, Some(site), Refusal::NotSupervised)
                .await);
        }
        if ending && self.free_session_on(seat).await? {
            // A free-access visitor's session (the minutes of grace when a slot opens on a
            // seat in use) is not the mediator's.
            return Err(self
                .refuse(action, Some(site), Refusal::FreeAccessSession)
                .await);
        }
        Ok(())
    }

    /// Whether a free-access visitor's session runs on `seat`, as the seat reported it.
    async fn free_session_on(&self, seat: &str) -> Result<bool, StaffError> {
        Ok(self.c.store().open_session_kind(seat).await?.as_deref() == Some("free"))
    }

    /// For a person who may change only their own slots: refuses a seat that is in someone
    /// else's supervised slot now, or in a free-access visitor's session (opening a slot
    /// there would end that session after its grace minutes).
    async fn seats_free_for_slot(&self, site: &str, seats: &[String]) -> Result<(), StaffError> {
        if self.check(Right::ChangeAnySlot, Some(site)).is_ok() {
            return Ok(());
        }
        let at = now();
        let (model, _) = self.c.site_schedule(site).await?;
        let openers = self.c.store().slot_openers(site).await?;
        for seat in seats {
            let current = compile_between(&model, seat, at, UtcMillis(at.0 + 1))
                .ok()
                .and_then(|slots| slots.into_iter().find(|s| s.start <= at && at < s.end));
            let someone_elses = current.is_some_and(|slot| {
                slot.kind == SlotKind::Supervised
                    && !slot.permanence.is_some_and(|p| {
                        openers
                            .iter()
                            .any(|(id, login)| *id == p.id && *login == self.who.login)
                    })
            });
            if someone_elses || self.free_session_on(seat).await? {
                return Err(self
                    .refuse("slot.open", Some(site), Refusal::SeatInUse)
                    .await);
            }
        }
        Ok(())
    }

    /// Starts a supervised session for a visitor on `seat`.
    pub async fn start_session(&self, site: &str, seat: &str) -> Result<CommandRecord, StaffError> {
        self.allow_session("session.start", site, seat, false)
            .await?;
        let command = self
            .c
            .send_command(
                seat,
                CommandAction::StartSession {
                    slot_kind: SlotKind::Supervised,
                },
                &self.who.login,
            )
            .await?;
        self.done(
            "session.start",
            Some(site),
            &format!("{seat}: command {}", command.id),
        )
        .await;
        Ok(command)
    }

    /// Ends the visitor's session on `seat`, with `reason` shown to them.
    pub async fn end_session(
        &self,
        site: &str,
        seat: &str,
        reason: &str,
    ) -> Result<CommandRecord, StaffError> {
        self.allow_session("session.end", site, seat, true).await?;
        let command = self
            .c
            .send_command(
                seat,
                CommandAction::EndSession {
                    reason: reason.to_string(),
                },
                &self.who.login,
            )
            .await?;
        self.done(
            "session.end",
            Some(site),
            &format!("{seat}: command {}", command.id),
        )
        .await;
        Ok(command)
    }

    /// Staff looked at `seat` (its cable, its keyboard) after a device alarm: the seat
    /// accepts what is plugged in now and lets visitors in again. Audited.
    pub async fn accept_devices(
        &self,
        site: &str,
        seat: &str,
    ) -> Result<CommandRecord, StaffError> {
        self.allow("devices.accept", Right::SuperviseSession, Some(site))
            .await?;
        self.seat_of("devices.accept", site, seat).await?;
        let command = self
            .c
            .send_command(seat, CommandAction::ApproveDevices, &self.who.login)
            .await?;
        self.done(
            "devices.accept",
            Some(site),
            &format!("{seat}: command {}", command.id),
        )
        .await;
        Ok(command)
    }

    /// Lets a print job that waits for staff at `seat` (beyond the free pages, or not
    /// counted) go to the printer. Audited with the job's number and pages: the
    /// controller knows nothing else of it.
    pub async fn release_print_job(
        &self,
        site: &str,
        seat: &str,
        job: u32,
    ) -> Result<CommandRecord, StaffError> {
        self.print_command(
            "print.release",
            site,
            seat,
            job,
            CommandAction::ReleasePrintJob { job },
        )
        .await
    }

    /// Cancels a print job that waits for staff at `seat`. Audited.
    pub async fn cancel_print_job(
        &self,
        site: &str,
        seat: &str,
        job: u32,
    ) -> Result<CommandRecord, StaffError> {
        self.print_command(
            "print.cancel",
            site,
            seat,
            job,
            CommandAction::CancelPrintJob { job },
        )
        .await
    }

    async fn print_command(
        &self,
        action: &'static str,
        site: &str,
        seat: &str,
        job: u32,
        command: CommandAction,
    ) -> Result<CommandRecord, StaffError> {
        self.allow(action, Right::SuperviseSession, Some(site))
            .await?;
        self.seat_of(action, site, seat).await?;
        let pages = self
            .c
            .waiting_print_jobs(seat)
            .into_iter()
            .find(|(j, _)| *j == job)
            .map(|(_, pages)| pages);
        let Some(pages) = pages else {
            return Err(StaffError::NotFound(
                "this print job no longer waits: it was printed or cancelled, or the session ended"
                    .into(),
            ));
        };
        self.c.print_board().remove(seat, job);
        self.c.seats_changed();
        let command = self.c.send_command(seat, command, &self.who.login).await?;
        let pages = pages.map_or_else(|| "pages not counted".to_string(), |p| format!("{p} pages"));
        self.done(
            action,
            Some(site),
            &format!("{seat}: print job {job} ({pages}), command {}", command.id),
        )
        .await;
        Ok(command)
    }

    /// Wakes `seat` by Wake-on-LAN (a magic packet to each of its MAC addresses); returns
    /// how many packets went. Audited.
    pub async fn wake_seat(
        &self,
        site: &str,
        seat: &str,
    ) -> Result<crate::power::Woken, StaffError> {
        self.allow("seat.wake", Right::SuperviseSession, Some(site))
            .await?;
        self.seat_of("seat.wake", site, seat).await?;
        let woken = self.c.wake_seat(seat).await?;
        let relay = woken
            .relayed_by
            .as_deref()
            .map(|r| format!(", relayed by {r}"))
            .unwrap_or_default();
        self.done(
            "seat.wake",
            Some(site),
            &format!("{seat}: {} magic packet(s){relay}", woken.packets),
        )
        .await;
        Ok(woken)
    }

    // --- Calls for a mediator ---------------------------------------------------------

    /// Takes the visitor's call `call_id` on `seat` ("Je m'en occupe"): it leaves every
    /// staff page at once and the seat is told someone is coming. A call already taken,
    /// cancelled or ended is `NotFound`.
    pub async fn take_help_call(
        &self,
        seat: &str,
        call_id: &str,
    ) -> Result<CommandRecord, StaffError> {
        // An unknown seat and another site's seat get the same refusal: the answer does
        // not tell which seats exist elsewhere.
        let agent = self
            .c
            .store()
            .agent(seat)
            .await?
            .filter(|a| self.who.may_act_on(&a.site_id));
        let Some(agent) = agent else {
            return Err(self.refuse("help.take", None, Refusal::SeatNotOfSite).await);
        };
        let site = agent.site_id.as_str();
        self.allow("help.take", Right::AnswerHelp, Some(site))
            .await?;
        let need = self
            .c
            .open_help_calls()
            .get(seat)
            .filter(|c| c.call_id == call_id)
            .map(|c| c.need.as_str())
            .unwrap_or("?");
        if !self
            .c
            .store()
            .help_taken(seat, call_id, &self.who.login, now())
            .await?
        {
            return Err(StaffError::NotFound(
                "this call is no longer open: someone took it, or the visitor cancelled it".into(),
            ));
        }
        self.c.help_board().remove(seat, call_id);
        self.c.seats_changed();
        let command = self
            .c
            .send_command(
                seat,
                CommandAction::HelpTaken {
                    call_id: call_id.to_string(),
                },
                &self.who.login,
            )
            .await?;
        self.done(
            "help.take",
            Some(site),
            &format!("{seat}: call {call_id} ({need}), command {}", command.id),
        )
        .await;
        Ok(command)
    }

    /// A site's calls for a mediator per local day, hour and need, over `[from_day,
    /// to_day]` (anonymous counts: no seat, no session).
    pub async fn help_counts(
        &self,
        site: &str,
        from_day: &str,
        to_day: &str,
    ) -> Result<Vec<crate::store::HelpCount>, StaffError> {
        self.allow("report.view", Right::SeeReports, Some(site))
            .await?;
        Ok(self.c.store().help_counts(site, from_day, to_day).await?)
    }

    // --- Counters, tickets, reports --------------------------------------------------

    /// Records what a permanence did on a day (counts only).
    pub async fn record_counters(
        &self,
        site: &str,
        permanence: &str,
        day: &str,
        people: u32,
        categories: &[(String, u32)],
    ) -> Result<(), StaffError> {
        self.allow("counters.record", Right::RecordCounters, Some(site))
            .await?;
        if permanence.chars().count() > MAX_COUNTER_PERMANENCE_CHARS {
            return Err(StaffError::Invalid(format!(
                "a permanence id is {MAX_COUNTER_PERMANENCE_CHARS} characters at most"
            )));
        }
        // Counters go to a permanence of the site: one of its schedule, a slot opened there
        // (for a mediator, one they opened: another association's figures are not theirs to
        // change), or the site's other accompanied sessions.
        let (model, _) = self.c.site_schedule(site).await?;
        let any_slot = self.check(Right::ChangeAnySlot, Some(site)).is_ok();
        let openers = self.c.store().slot_openers(site).await?;
        let known = permanence == OTHER_ACCOMPANIED
            || model.permanences.iter().any(|p| p.id == permanence)
            || model.ad_hoc.iter().any(|slot| {
                slot.id == permanence
                    && (any_slot
                        || openers
                            .iter()
                            .any(|(id, login)| *id == slot.id && *login == self.who.login))
            });
        if !known {
            return Err(StaffError::Invalid(format!(
                "`{permanence}` is not a permanence of {site} you may record"
            )));
        }
        self.c
            .record_counters(site, permanence, day, people, categories, &self.who.login)
            .await?;
        self.done(
            "counters.record",
            Some(site),
            &format!("{permanence} {day}: {people} people"),
        )
        .await;
        Ok(())
    }

    /// Creates free-access tickets; their codes (shown once).
    pub async fn create_tickets(
        &self,
        site: &str,
        count: usize,
        minutes: u32,
        valid_until: UtcMillis,
    ) -> Result<Vec<String>, StaffError> {
        self.allow("tickets.create", Right::CreateTickets, Some(site))
            .await?;
        let codes = self
            .c
            .create_tickets(site, count, minutes, valid_until)
            .await?;
        self.done(
            "tickets.create",
            Some(site),
            &format!(
                "{} ticket(s) of {minutes} min until {valid_until}",
                codes.len()
            ),
        )
        .await;
        Ok(codes)
    }

    /// Whether the person may see the tickets page of `site` (refusal audited).
    pub async fn tickets_page(&self, site: &str) -> Result<(), StaffError> {
        self.allow("tickets.view", Right::CreateTickets, Some(site))
            .await
    }

    /// A site's report over `[from, to)`, to look at.
    pub async fn report(
        &self,
        site: &str,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<SiteReport, StaffError> {
        self.allow("report.view", Right::SeeReports, Some(site))
            .await?;
        Ok(self.c.site_report(site, from, to).await?)
    }

    /// A site's sessions month by month over the year that ends with the month of `to`.
    pub async fn report_months(
        &self,
        site: &str,
        to: UtcMillis,
    ) -> Result<Vec<crate::reports::MonthLine>, StaffError> {
        self.allow("report.view", Right::SeeReports, Some(site))
            .await?;
        Ok(self.c.site_months(site, to).await?)
    }

    /// A site's report over `[from, to)`, to export as `file` (audited).
    pub async fn export_report(
        &self,
        site: &str,
        from: UtcMillis,
        to: UtcMillis,
        file: &str,
    ) -> Result<SiteReport, StaffError> {
        self.allow("report.export", Right::SeeReports, Some(site))
            .await?;
        let report = self.c.site_report(site, from, to).await?;
        self.done(
            "report.export",
            Some(site),
            &format!("{file} {from} to {to}"),
        )
        .await;
        Ok(report)
    }

    /// A site's public description.
    pub async fn site_details(&self, site: &str) -> Result<SiteDetails, StaffError> {
        self.allow("report.view", Right::SeeReports, Some(site))
            .await?;
        Ok(self.c.site_details(site).await?)
    }

    /// What the national export refuses or remarks about a site, field by field (for the
    /// report's warning).
    pub async fn lieux_check(&self, site: &str) -> Result<SiteCheck, StaffError> {
        self.allow("report.view", Right::SeeReports, Some(site))
            .await?;
        Ok(self.c.lieux_check(site).await?)
    }

    /// The national "lieux de médiation numérique" export of the person's sites: the CSV,
    /// and what each site lacks (a site the schema would refuse is left out).
    pub async fn lieux_csv(&self) -> Result<NationalExport, StaffError> {
        self.allow("export.lieux", Right::SeeReports, None).await?;
        let sites: Vec<String> = self.sites().await?.into_iter().map(|s| s.id).collect();
        let export = self.c.lieux_csv(&sites).await?;
        self.done("export.lieux", None, &format!("{} site(s)", sites.len()))
            .await;
        Ok(export)
    }

    // --- Devices and sites -----------------------------------------------------------

    /// Every computer with the sites, for IT's devices page.
    pub async fn devices(&self) -> Result<(Vec<AgentView>, Vec<SiteRecord>), StaffError> {
        self.allow("devices.view", Right::ManageDevices, None)
            .await?;
        let fleet = self
            .c
            .fleet()
            .await?
            .into_iter()
            .filter(|a| self.who.may_act_on(&a.overview.agent.site_id))
            .collect();
        let sites = self
            .c
            .store()
            .sites()
            .await?
            .into_iter()
            .filter(|s| self.who.may_act_on(&s.id))
            .collect();
        Ok((fleet, sites))
    }

    /// A single-use enrollment token for `site`, valid `ttl_secs`.
    pub async fn create_enrollment_token(
        &self,
        site: &str,
        ttl_secs: i64,
    ) -> Result<String, StaffError> {
        self.allow("token.create", Right::ManageDevices, Some(site))
            .await?;
        let token = self.c.create_enrollment_token(site, ttl_secs).await?;
        self.done("token.create", Some(site), &format!("valid {ttl_secs} s"))
            .await;
        Ok(token)
    }

    /// Revokes a computer.
    pub async fn revoke_agent(&self, id: &str) -> Result<(), StaffError> {
        let site = self.c.store().agent(id).await?.map(|a| a.site_id);
        self.allow("agent.revoke", Right::ManageDevices, site.as_deref())
            .await?;
        if !self.c.revoke_agent(id).await? {
            return Err(StaffError::NotFound(format!(
                "no agent {id}; `commune agent list` shows the enrolled ones"
            )));
        }
        self.done("agent.revoke", site.as_deref(), id).await;
        Ok(())
    }

    /// Adds a site.
    pub async fn add_site(&self, id: &str, name: &str) -> Result<(), StaffError> {
        self.allow("site.add", Right::ConfigureSites, None).await?;
        if !valid_site_id(id) {
            return Err(StaffError::Invalid(format!(
                "identifiant de site « {id} » refusé : 1 à 64 caractères parmi a-z, 0-9 et « - », \
                 sans « - » au début ni à la fin (ex. mdh-abbaye) / site id refused: 1 to 64 of \
                 a-z, 0-9 and '-', not starting or ending with '-'"
            )));
        }
        if name.trim().is_empty()
            || name.chars().count() > 200
            || name.chars().any(char::is_control)
        {
            return Err(StaffError::Invalid(
                "nom de site : 1 à 200 caractères, sans caractère de contrôle / site name: 1 to \
                 200 characters, no control character"
                    .into(),
            ));
        }
        self.c.store().add_site(id, name, now()).await?;
        self.done("site.add", Some(id), name).await;
        Ok(())
    }

    /// The data·inclusion services (free access, permanences) of the person's sites, in
    /// JSON, and what each site lacks.
    pub async fn inclusion_services(&self) -> Result<NationalExport, StaffError> {
        self.allow("export.inclusion", Right::SeeReports, None)
            .await?;
        let sites: Vec<String> = self.sites().await?.into_iter().map(|s| s.id).collect();
        let export = self.c.inclusion_services(&sites).await?;
        self.done(
            "export.inclusion",
            None,
            &format!("{} site(s)", sites.len()),
        )
        .await;
        Ok(export)
    }

    /// Stores a site's public description; returns what the national export still refuses
    /// or remarks about the site, field by field.
    pub async fn set_site_details(
        &self,
        id: &str,
        details: &SiteDetails,
    ) -> Result<Vec<FieldProblem>, StaffError> {
        self.allow("site.details", Right::ConfigureSites, Some(id))
            .await?;
        let problems = self.c.set_site_details(id, details).await?;
        self.done("site.details", Some(id), "").await;
        Ok(problems)
    }

    /// Sets the PIN mediators type at a site's computers; the schedule's new version.
    pub async fn set_mediator_pin(&self, id: &str, pin: &str) -> Result<u64, StaffError> {
        self.allow("pin.set", Right::ConfigureSites, Some(id))
            .await?;
        let version = self.c.set_mediator_pin(id, pin).await?;
        self.done("pin.set", Some(id), &format!("version {version}"))
            .await;
        Ok(version)
    }

    /// Replaces a site's schedule; its new version.
    pub async fn set_schedule(&self, site: &str, model: SiteSchedule) -> Result<u64, StaffError> {
        self.allow("schedule.set", Right::ConfigureSites, Some(site))
            .await?;
        let version = self.c.set_site_schedule(site, model).await?;
        self.done("schedule.set", Some(site), &format!("version {version}"))
            .await;
        Ok(version)
    }
}

/// A site id as it appears in addresses, file names and metric labels: 1 to 64 of `a-z`,
/// `0-9` and `-`, not starting or ending with `-`.
pub(crate) fn valid_site_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

#[cfg(test)]
mod site_id_tests {
    use super::valid_site_id;

    #[test]
    fn site_ids_are_safe_in_addresses_files_and_labels() {
        for ok in ["mdh-abbaye", "mq-1", "a", "x9"] {
            assert!(valid_site_id(ok), "{ok}");
        }
        for bad in [
            "",
            "-mdh",
            "mdh-",
            "MDH",
            "mdh abbaye",
            "mdh\"x",
            "mdh/../x",
            "é",
            &"a".repeat(65),
        ] {
            assert!(!valid_site_id(bad), "{bad}");
        }
    }
}
