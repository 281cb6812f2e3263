# Shared by the LightDM hooks of Commune (guest-account, session-setup, session-cleanup).
# Sourced, not run; installed next to them in /usr/lib/commune-agent/lightdm/.
#
# The hooks are thin: the agent (`commune-agent`, a root service) does all the work and
# keeps the wipe report. The hooks only drive its control socket and log one line per
# outcome through `logger -t commune-agent`, naming at most the account (cmn-xxxxxxxx),
# never anything found in a visitor's home.
# shellcheck shell=sh

# LightDM starts these hooks with a cleared or minimal environment; make sure the agent
# and the usual tools are found wherever the package put them. Appended, not prepended,
# so a PATH set by the caller (the tests put a fake agent first) still wins.
PATH="${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH

# How long the cleanup hooks wait for a wipe the agent started on its own (time up, staff
# command) before giving up; LightDM waits for the hook, so keep this bounded.
COMMUNE_HOOK_WAIT_SECONDS="${COMMUNE_HOOK_WAIT_SECONDS:-30}"

# log PRIORITY MESSAGE: one line to syslog/journal. A missing or failing logger must not
# change a hook's outcome.
commune_log() {
    logger -t commune-agent -p "user.$1" -- "lightdm: $2" 2>/dev/null || true
}

# Sets COMMUNE_STATE and COMMUNE_ACCOUNT from `commune-agent ctl status`; returns non-zero
# (both empty) when the agent cannot be asked.
#
# No jq on the seats: the JSON is read with sed. This relies on what the agent prints:
# serde_json's pretty printer writes each member as `"key": value` (one per line), the key
# `state` and the key `account` (in `session`) each appear once, and an account name has
# no quote or backslash. A string value that merely contains such text is escaped (\") by
# JSON and cannot match. The expressions also accept the compact one-line form.
commune_read_status() {
    COMMUNE_STATE=''
    COMMUNE_ACCOUNT=''
    commune_status_json=$(commune-agent ctl status 2>/dev/null) || return 1
    COMMUNE_STATE=$(printf '%s\n' "$commune_status_json" |
        sed -n 's/.*"state":[[:space:]]*"\([a-z_]*\)".*/\1/p' | sed -n 1p)
    COMMUNE_ACCOUNT=$(printf '%s\n' "$commune_status_json" |
        sed -n 's/.*"account":[[:space:]]*"\([^"\\]*\)".*/\1/p' | sed -n 1p)
    [ -n "$COMMUNE_STATE" ]
}

# commune_end_session HOOK ACCOUNT: ends ACCOUNT's session and waits for its wipe.
# (POSIX sh has no local variables: this function's own are prefixed ce_ so that it
# cannot clobber a caller's.)
# Returns 0 when the wipe verified or there was nothing left to wipe, 2 when a wipe did not
# verify (the agent has blocked the seat), 1 on any other failure. Idempotent: the cleanup
# hook and `guest-account remove` both call it for the same session.
commune_end_session() {
    ce_hook=$1
    ce_account=$2
    # Never end somebody else's session (a stale name from LightDM, a supervised session).
    if commune_read_status && [ "$COMMUNE_STATE" = in_session ] &&
        [ "$COMMUNE_ACCOUNT" != "$ce_account" ]; then
        commune_log err "$ce_hook $ce_account: the running session is another account's; left it alone"
        return 1
    fi
    ce_rc=0
    # The wipe report (stdout) stays with the agent (`ctl last-wipe-report`); only the
    # agent's error sentence is kept, for LightDM's log.
    ce_err=$(commune-agent ctl end-session 2>&1 >/dev/null) || ce_rc=$?
    case $ce_rc in
    0)
        commune_log notice "$ce_hook $ce_account: session ended, wipe verified"
        return 0
        ;;
    2)
        commune_log err "$ce_hook $ce_account: session ended, wipe NOT verified; the seat is blocked, IT must look (commune-agent ctl last-wipe-report)"
        return 2
        ;;
    esac
    case $ce_err in
    *"no session is running"*) ;;
    *)
        printf '%s\n' "$ce_err" >&2
        commune_log err "$ce_hook $ce_account: end-session failed (exit $ce_rc)"
        return 1
        ;;
    esac
    # Nothing to end: the other hook already did, or the agent ended the session itself
    # (time up) and may still be wiping. Wait for that wipe and report its outcome.
    ce_waited=0
    while commune_read_status && [ "$COMMUNE_STATE" = wiping ] &&
        [ "$ce_waited" -lt "$COMMUNE_HOOK_WAIT_SECONDS" ]; do
        sleep 1
        ce_waited=$((ce_waited + 1))
    done
    case $COMMUNE_STATE in
    '')
        commune_log err "$ce_hook $ce_account: no session running, and the agent cannot be asked how the last wipe went"
        return 1
        ;;
    wiping)
        commune_log err "$ce_hook $ce_account: the agent is still wiping after ${COMMUNE_HOOK_WAIT_SECONDS}s"
        return 1
        ;;
    blocked)
        # A seat cannot start a session while blocked, so the block came from this
        # session's wipe.
        commune_log err "$ce_hook $ce_account: wipe NOT verified; the seat is blocked, IT must look (commune-agent ctl last-wipe-report)"
        return 2
        ;;
    esac
    commune_log info "$ce_hook $ce_account: no session running for it (already wiped, or never started)"
    return 0
}
