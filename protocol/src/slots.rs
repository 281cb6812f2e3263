//! A site's time rules and the pure compiler that turns them into a seat's [`Schedule`].
//!
//! Staff describe a site in local wall-clock terms: opening hours per weekday, closures by
//! date, recurring permanences ("Écrivain public, mardi 14:00–17:00" on three seats), and
//! ad-hoc supervised slots opened from the dashboard. [`compile`] turns that description into
//! the UTC instants a seat's agent enforces from its cached copy, whether or not it can reach
//! the controller.
//!
//! # What the compiler produces
//!
//! For one seat and a window `[from, until)`, a list of [`Slot`]s that are sorted, do not
//! overlap, have no gap, are never empty, and cover the window exactly: time outside opening
//! hours is an explicit [`SlotKind::Closed`] slot, so the agent knows when its seat is locked.
//! Adjacent slots with identical content are merged. At each instant the first rule that
//! applies wins:
//!
//! 1. a [`Closure`] of the site: closed;
//! 2. an [`AdHocSlot`] on this seat: supervised;
//! 3. a recurring [`Permanence`] reserving this seat: supervised;
//! 4. the site's [`WeeklyHours`]: free access, with the [`FreeAccessRule`]'s session length
//!    and ticket requirement;
//! 5. otherwise: closed.
//!
//! Permanences and ad-hoc slots do not need the site to be open: mediators run evening
//! workshops. Only a closure overrides them. When two permanences (or two ad-hoc slots)
//! overlap on a seat, the one that started last wins from its start on, and on equal starts
//! the one later in its list.
//!
//! # Local time and daylight saving
//!
//! Wall-clock times are converted with the site's IANA time zone from the tz database
//! bundled in this crate (never the host's), so the controller and every agent compute the
//! same instants. Each local date and time becomes an instant with the *compatible*
//! disambiguation of RFC 5545 and JavaScript's Temporal:
//!
//! - a time that does not exist because the clocks spring forward is moved forward by the
//!   length of the gap: 02:30 on 2027-03-28 in Paris is 03:30 CEST (01:30 UTC);
//! - a time that happens twice because the clocks fall back is its earlier occurrence:
//!   02:30 on 2026-10-25 in Paris is 02:30 CEST (00:30 UTC), not 02:30 CET.
//!
//! Starts and ends follow the same rule, so two ranges that meet on the wall clock
//! (09:00–12:00 and 12:00–18:00) also meet as instants. Durations therefore follow the wall
//! clock, not a stopwatch: a permanence 14:00–17:00 lasts 3 hours every day, and one
//! 01:00–04:00 lasts 2 hours on 2027-03-28 (the clock skips 02:00–03:00) and 4 hours on
//! 2026-10-25 (the clock runs 02:00–03:00 twice). A range whose converted end is not after
//! its start (one lying entirely inside a spring-forward gap, such as 02:30–03:00) produces
//! nothing that day.
//!
//! A range whose end is earlier than its start crosses midnight: 20:00–01:00 on a Friday runs
//! until 01:00 on Saturday. A range cannot end when it starts; a whole day is written
//! 00:00–12:00 plus 12:00–00:00, which merge into one slot.
//!
//! A closure covers whole local days, from 00:00 on its first day to 00:00 after its last.
//! A permanence occurrence belongs to the local date it starts on: its weekday and its
//! validity dates are those of that date.
//!
//! This module reads no clock: "now" is always an argument.
//!
//! [`Schedule`]: crate::schedule::Schedule
//! [`Slot`]: crate::schedule::Slot
//! [`SlotKind::Closed`]: crate::messages::SlotKind::Closed

mod compiler;
mod model;
mod validate;

#[cfg(test)]
mod fixtures;

pub use compiler::{compile, compile_between, compile_schedule, DEFAULT_DAYS, MAX_DAYS};
pub use model::{
    AdHocSlot, Closure, FreeAccessRule, LocalDate, LocalTime, Permanence, Programme, SiteSchedule,
    TimeRange, Weekday, WeeklyHours, DEFAULT_AD_HOC_NAME, DEFAULT_SESSION_MINUTES,
    DEFAULT_WARNING_MINUTES,
};
pub use validate::SlotsError;
