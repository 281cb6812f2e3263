//! The pure part of printing knowingly: which jobs of the session wait, how many free
//! pages are left, and who may let each job go. No clock, no CUPS: the shell
//! ([`super::Print`]) brings the queue's jobs, the session and the local day.

use std::collections::BTreeMap;

use commune_protocol::messages::ReleasedBy;
use commune_protocol::schedule::SeatPolicy;
use serde::Serialize;

/// The most jobs a session keeps waiting; more are cancelled as they come (a program
/// sending a thousand jobs costs a thousand cancels, not a thousand page counts kept).
pub const MAX_JOBS: usize = 20;

/// A site's free pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    /// Per session (0: no limit).
    pub per_session: u32,
    /// Per local day at this seat, all sessions together (0: no limit).
    pub per_day: u32,
}

impl From<&SeatPolicy> for Quota {
    fn from(policy: &SeatPolicy) -> Self {
        Quota {
            per_session: policy.print_pages_per_session,
            per_day: policy.print_pages_per_day,
        }
    }
}

impl Quota {
    /// Free pages left after `session` pages this session and `day` pages today; `None`
    /// when the site sets no limit.
    pub fn left(&self, session: u32, day: u32) -> Option<u32> {
        let limits = [(self.per_session, session), (self.per_day, day)];
        limits
            .into_iter()
            .filter(|(limit, _)| *limit > 0)
            .map(|(limit, used)| limit.saturating_sub(used))
            .min()
    }
}

/// Who may let a job go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The visitor, on the notice: its pages are within the free pages left.
    Visitor,
    /// Staff: beyond the free pages left.
    BeyondQuota,
    /// Staff: its pages could not be counted.
    Uncounted,
}

/// A job as the notice shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobView {
    /// Its number on this computer.
    pub job: u32,
    /// Its pages (copies included), when counted.
    pub pages: Option<u32>,
    /// Who may let it go.
    pub verdict: Verdict,
}

/// Why a job was not let go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintRefusal {
    /// Not a job of this session waiting here.
    #[error("no such print job waits on this seat")]
    NoSuchJob,
    /// Beyond the free pages, or uncounted: staff decide.
    #[error("this job waits for staff")]
    ForStaff,
    /// CUPS failed.
    #[error("the print queue failed: {0}")]
    Failed(String),
}

/// What changed when the queue was read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Jobs that now wait for staff (with their pages).
    pub waiting: Vec<(u32, Option<u32>)>,
    /// Jobs that waited for staff and are gone (printed, cancelled).
    pub wait_over: Vec<u32>,
    /// Jobs beyond [`MAX_JOBS`]: to cancel.
    pub excess: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    pages: Option<u32>,
    /// Announced to staff as waiting for them.
    announced: bool,
}

/// The seat's print jobs and pages, pure.
#[derive(Debug, Default)]
pub struct PrintDesk {
    session: Option<String>,
    day: Option<i32>,
    used_session: u32,
    used_day: u32,
    jobs: BTreeMap<u32, Held>,
}

impl PrintDesk {
    /// Follows the seat: a new session starts with no job and no page of its own; a new
    /// local day (`day`: any number that changes with it) with none of the day's.
    pub fn observe(&mut self, session: Option<&str>, day: i32) {
        if self.session.as_deref() != session {
            self.session = session.map(str::to_owned);
            self.used_session = 0;
            self.jobs.clear();
        }
        if self.day != Some(day) {
            self.day = Some(day);
            self.used_day = 0;
        }
    }

    /// The local day and its pages, to keep across a restart of the agent.
    pub fn day_pages(&self) -> Option<(i32, u32)> {
        self.day.map(|d| (d, self.used_day))
    }

    /// Takes back the pages of `day` kept before a restart (ignored when today is another
    /// day: [`PrintDesk::observe`] then starts afresh).
    pub fn restore_day(&mut self, day: i32, pages: u32) {
        self.day = Some(day);
        self.used_day = pages;
    }

    /// Free pages left now; `None`: no limit.
    pub fn left(&self, quota: Quota) -> Option<u32> {
        quota.left(self.used_session, self.used_day)
    }

    /// Pages printed this session.
    pub fn used_session(&self) -> u32 {
        self.used_session
    }

    fn verdict(&self, quota: Quota, pages: Option<u32>) -> Verdict {
        match (pages, self.left(quota)) {
            (None, _) => Verdict::Uncounted,
            (Some(_), None) => Verdict::Visitor,
            (Some(p), Some(left)) if p <= left => Verdict::Visitor,
            (Some(_), Some(_)) => Verdict::BeyondQuota,
        }
    }

    /// Whether `job` is already known (its pages need not be counted again).
    pub fn knows(&self, job: u32) -> bool {
        self.jobs.contains_key(&job)
    }

    /// How many more jobs may be counted.
    pub fn room(&self) -> usize {
        MAX_JOBS.saturating_sub(self.jobs.len())
    }

    /// The jobs on the queues now, with the pages of the new ones (`None`: not counted);
    /// new jobs beyond [`MAX_JOBS`] are to be cancelled. Without a session every job is
    /// (nobody is there to confirm it; the wipe also purges them).
    pub fn seen(&mut self, quota: Quota, queue: &[(u32, Option<u32>)]) -> Changes {
        let mut changes = Changes::default();
        let present: std::collections::BTreeSet<u32> = queue.iter().map(|(j, _)| *j).collect();
        let gone: Vec<u32> = self
            .jobs
            .keys()
            .filter(|j| !present.contains(j))
            .copied()
            .collect();
        for job in gone {
            if let Some(held) = self.jobs.remove(&job) {
                if held.announced {
                    changes.wait_over.push(job);
                }
            }
        }
        for &(job, pages) in queue {
            if self.jobs.contains_key(&job) {
                continue;
            }
            if self.session.is_none() || self.jobs.len() >= MAX_JOBS {
                changes.excess.push(job);
                continue;
            }
            self.jobs.insert(
                job,
                Held {
                    pages,
                    announced: false,
                },
            );
        }
        changes.waiting = self.announce(quota);
        changes
    }

    /// Marks the jobs that now wait for staff (the free pages shrink as others print).
    fn announce(&mut self, quota: Quota) -> Vec<(u32, Option<u32>)> {
        let verdicts: Vec<(u32, Verdict)> = self
            .jobs
            .iter()
            .map(|(job, held)| (*job, self.verdict(quota, held.pages)))
            .collect();
        let mut waiting = Vec::new();
        for (job, verdict) in verdicts {
            if let Some(held) = self.jobs.get_mut(&job) {
                if verdict != Verdict::Visitor && !held.announced {
                    held.announced = true;
                    waiting.push((job, held.pages));
                }
            }
        }
        waiting
    }

    /// The jobs as the notice shows them.
    pub fn view(&self, quota: Quota) -> Vec<JobView> {
        self.jobs
            .iter()
            .map(|(job, held)| JobView {
                job: *job,
                pages: held.pages,
                verdict: self.verdict(quota, held.pages),
            })
            .collect()
    }

    /// Whether `by` may let `job` go now; its pages when so.
    pub fn may_release(
        &self,
        quota: Quota,
        job: u32,
        by: ReleasedBy,
    ) -> Result<Option<u32>, PrintRefusal> {
        let held = self.jobs.get(&job).ok_or(PrintRefusal::NoSuchJob)?;
        match (by, self.verdict(quota, held.pages)) {
            (ReleasedBy::Visitor, Verdict::Visitor) | (ReleasedBy::Staff, _) => Ok(held.pages),
            _ => Err(PrintRefusal::ForStaff),
        }
    }

    /// `job` went to the printer: its pages count against the free pages (staff's
    /// releases too: the day's pages are the day's). Returns whether it had been
    /// announced as waiting for staff, and the jobs that now do.
    pub fn printed(&mut self, quota: Quota, job: u32) -> (bool, Vec<(u32, Option<u32>)>) {
        let Some(held) = self.jobs.remove(&job) else {
            return (false, Vec::new());
        };
        let pages = held.pages.unwrap_or(0);
        self.used_session = self.used_session.saturating_add(pages);
        self.used_day = self.used_day.saturating_add(pages);
        (held.announced, self.announce(quota))
    }

    /// `job` was cancelled; returns whether it had been announced as waiting for staff.
    pub fn cancelled(&mut self, job: u32) -> bool {
        self.jobs.remove(&job).is_some_and(|h| h.announced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(per_session: u32, per_day: u32) -> Quota {
        Quota {
            per_session,
            per_day,
        }
    }

    #[test]
    fn the_free_pages_left_are_the_smaller_of_the_session_and_the_day() {
        assert_eq!(quota(0, 0).left(500, 500), None);
        assert_eq!(quota(10, 0).left(4, 900), Some(6));
        assert_eq!(quota(0, 30).left(4, 28), Some(2));
        assert_eq!(quota(10, 30).left(4, 28), Some(2));
        assert_eq!(quota(10, 30).left(12, 12), Some(0));
        assert_eq!(quota(10, 30).left(u32::MAX, u32::MAX), Some(0));
    }

    #[test]
    fn a_job_within_the_free_pages_is_the_visitors_and_the_next_one_beyond_is_staffs() {
        let q = quota(5, 0);
        let mut desk = PrintDesk::default();
        desk.observe(Some("s-1"), 1);
        let changes = desk.seen(q, &[(7, Some(3)), (8, Some(3))]);
        assert!(changes.waiting.is_empty(), "each fits alone: {changes:?}");
        assert_eq!(desk.may_release(q, 7, ReleasedBy::Visitor), Ok(Some(3)));
        let (_, waiting) = desk.printed(q, 7);
        // 2 pages left: the second job now waits for staff, announced once.
        assert_eq!(waiting, vec![(8, Some(3))]);
        assert_eq!(desk.left(q), Some(2));
        assert_eq!(
            desk.may_release(q, 8, ReleasedBy::Visitor),
            Err(PrintRefusal::ForStaff)
        );
        assert_eq!(desk.may_release(q, 8, ReleasedBy::Staff), Ok(Some(3)));
        assert!(desk.seen(q, &[(8, Some(3))]).waiting.is_empty());
        let (announced, _) = desk.printed(q, 8);
        assert!(announced);
        assert_eq!(desk.left(q), Some(0));
        assert_eq!(desk.used_session(), 6);
    }

    #[test]
    fn uncounted_jobs_and_unknown_ids_are_never_the_visitors() {
        let q = quota(0, 0);
        let mut desk = PrintDesk::default();
        desk.observe(Some("s-1"), 1);
        let changes = desk.seen(q, &[(3, None)]);
        assert_eq!(changes.waiting, vec![(3, None)]);
        assert_eq!(
            desk.may_release(q, 3, ReleasedBy::Visitor),
            Err(PrintRefusal::ForStaff)
        );
        assert_eq!(
            desk.may_release(q, 99, ReleasedBy::Visitor),
            Err(PrintRefusal::NoSuchJob)
        );
        assert_eq!(
            desk.may_release(q, 99, ReleasedBy::Staff),
            Err(PrintRefusal::NoSuchJob)
        );
        // Gone from the queue: staff hear the wait is over.
        assert_eq!(desk.seen(q, &[]).wait_over, vec![3]);
    }

    #[test]
    fn a_new_session_starts_afresh_and_a_new_day_resets_only_the_days_pages() {
        let q = quota(10, 12);
        let mut desk = PrintDesk::default();
        desk.observe(Some("s-1"), 1);
        desk.seen(q, &[(1, Some(8))]);
        desk.printed(q, 1);
        desk.seen(q, &[(2, Some(1))]);
        desk.observe(Some("s-2"), 1);
        assert!(
            desk.view(q).is_empty(),
            "the old session's jobs are not shown"
        );
        assert_eq!(desk.left(q), Some(4), "the day's 8 pages still count");
        desk.observe(Some("s-2"), 2);
        assert_eq!(desk.left(q), Some(10));
    }

    #[test]
    fn the_days_pages_come_back_after_a_restart_on_the_same_day_only() {
        let q = quota(0, 10);
        let mut desk = PrintDesk::default();
        desk.restore_day(5, 7);
        desk.observe(Some("s-1"), 5);
        assert_eq!(desk.left(q), Some(3));
        let mut desk = PrintDesk::default();
        desk.restore_day(4, 7);
        desk.observe(Some("s-1"), 5);
        assert_eq!(desk.left(q), Some(10));
    }

    #[test]
    fn a_flood_of_jobs_keeps_twenty_and_cancels_the_rest() {
        let q = quota(0, 0);
        let mut desk = PrintDesk::default();
        desk.observe(Some("s-1"), 1);
        let flood: Vec<(u32, Option<u32>)> = (1..=1000).map(|j| (j, Some(1))).collect();
        let changes = desk.seen(q, &flood);
        assert_eq!(desk.view(q).len(), MAX_JOBS);
        assert_eq!(changes.excess.len(), 1000 - MAX_JOBS);
        // Without a session, every job is cancelled.
        desk.observe(None, 1);
        assert_eq!(desk.seen(q, &[(5000, Some(1))]).excess, vec![5000]);
    }

    #[test]
    fn an_absurd_page_count_waits_for_staff_and_counts_without_overflow() {
        let q = quota(10, 0);
        let mut desk = PrintDesk::default();
        desk.observe(Some("s-1"), 1);
        let changes = desk.seen(q, &[(1, Some(u32::MAX))]);
        assert_eq!(changes.waiting, vec![(1, Some(u32::MAX))]);
        desk.printed(q, 1);
        desk.seen(q, &[(2, Some(u32::MAX))]);
        desk.printed(q, 2);
        assert_eq!(desk.used_session(), u32::MAX);
        assert_eq!(desk.left(q), Some(0));
    }
}
