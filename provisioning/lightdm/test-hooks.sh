#!/bin/sh
# Runs Commune's LightDM hooks for real against a fake `commune-agent` placed first in
# PATH, the way LightDM runs them (cleared environment, USER set for the session scripts),
# through every case the real agent can answer: started, refused, verified, not verified,
# no session, agent still wiping, agent unreachable. Also checks 50-commune.conf points
# at these scripts. No root, no desktop, about a second.
#
#   sh provisioning/lightdm/test-hooks.sh       (from the repository root, or anywhere)
#
# Exits non-zero on any mismatch, after printing what differed. `cargo test` runs it
# through provisioning/tests/lightdm_hooks.rs.
set -eu

here=$(cd "$(dirname -- "$0")" && pwd)
d=$(mktemp -d "${TMPDIR:-/tmp}/commune-lightdm-hooks.XXXXXX")
trap 'rm -rf "$d"' EXIT
trap 'exit 130' INT TERM
bin=$d/bin
mkdir "$bin"

ACCOUNT=cmn-1a2b3c4d
# A visitor's file name: it must never reach the log, whatever the agent prints.
SECRET='Téléchargements/attestation-caf.pdf'

# --- the fake agent -------------------------------------------------------------------
# State lives in $FAKE_DIR: `states` is the sequence of seat states `ctl status` walks
# through (one line each, the last one sticks), `start` and `end` say how start-session
# and end-session answer, `down` makes the socket unreachable. Every call is appended to
# `calls`. Output mimics the real binary: serde_json pretty JSON on stdout, anyhow's
# "Error: ..." on stderr with exit 1, exit 2 for a wipe that did not verify.
cat >"$bin/commune-agent" <<'EOF'
#!/bin/sh
set -eu
d=$FAKE_DIR
printf '%s\n' "$*" >>"$d/calls"
state() { sed -n 1p "$d/states"; }
advance() {
    if [ "$(sed -n '$=' "$d/states")" -gt 1 ]; then
        sed 1d "$d/states" >"$d/states.new" && mv "$d/states.new" "$d/states"
    fi
}
set_state() { printf '%s\n' "$1" >"$d/states"; }
report() {
    cat <<JSON
{
  "session_id": "5f0c1e9a2b7d4c3e",
  "verified": $1,
  "total_us": 41234,
  "steps": [
    {
      "name": "unmount",
      "duration_us": 812,
      "count": 1,
      "ok": $1,
      "detail": $2
    }
  ],
  "checks": [
    {
      "name": "files",
      "passed": $1,
      "found": 0
    }
  ],
  "kernel": "6.1.0-18-amd64",
  "swap": "no swap configured",
  "leftover": "$SECRET"
}
JSON
}
if [ -e "$d/down" ]; then
    echo "Error: cannot reach the agent at /run/commune-agent/ctl.sock: Connection refused (os error 111) (is \`commune-agent run\` running, and are you root?)" >&2
    exit 1
fi
case $* in
"ctl status")
    s=$(state)
    advance
    if [ "$s" = in_session ]; then
        session=$(cat <<JSON
{
    "session_id": "5f0c1e9a2b7d4c3e",
    "kind": "free",
    "account": "$(cat "$d/account")",
    "uid": 61004,
    "home": "/home/commune/$(cat "$d/account")",
    "seconds_left": 2700
  }
JSON
)
        reason=null
    else
        session=null
        # A reason quoting JSON-looking text: escaped, it must not fool the hooks' sed.
        reason='"the wipe of session 5f0c did not verify: \"state\": \"in_session\", \"account\": \"cmn-decoy\""'
    fi
    cat <<JSON
{
  "state": "$s",
  "session": $session,
  "reason": $reason,
  "platform": "linux-direct"
}
JSON
    ;;
"ctl start-session --kind free --name-only")
    case $(cat "$d/start") in
    ok)
        set_state in_session
        cat "$d/account"
        ;;
    garbage)
        set_state in_session
        echo "cmn-1a2b 3c4d"
        ;;
    refuse)
        echo "Error: this computer is blocked after a failed erase; ask staff to call IT (unmount failed)" >&2
        exit 1
        ;;
    esac
    ;;
"ctl end-session")
    if [ "$(state)" != in_session ]; then
        echo "Error: no session is running on this computer" >&2
        exit 1
    fi
    case $(cat "$d/end") in
    verified)
        set_state ready
        report true null
        ;;
    unverified)
        set_state blocked
        report false '"the session'"'"'s home is still held by 1 process(es): pid 4242 (bash, uid 0); it was NOT detached, IT must stop them"'
        echo "fake: $SECRET" >&2
        exit 2
        ;;
    stopped)
        echo "Error: the session manager has stopped" >&2
        exit 1
        ;;
    esac
    ;;
*)
    echo "fake commune-agent: unexpected arguments: $*" >&2
    exit 99
    ;;
esac
EOF
sed "s|\$SECRET|$SECRET|" "$bin/commune-agent" >"$bin/commune-agent.new"
mv "$bin/commune-agent.new" "$bin/commune-agent"

# logger and sleep are faked too: the log is checked, and waiting costs nothing.
cat >"$bin/logger" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >>"$FAKE_DIR/log"
EOF
cat >"$bin/sleep" <<'EOF'
#!/bin/sh
printf 'sleep %s\n' "$*" >>"$FAKE_DIR/calls"
EOF
chmod +x "$bin/commune-agent" "$bin/logger" "$bin/sleep"
printf '%s\n' "$ACCOUNT" >"$d/account"

# --- running a hook -------------------------------------------------------------------
cases=0
failures=0
current=''

# seat STATES START END: the fake agent's answers for the next case (STATES is a
# space-separated sequence for successive `ctl status` calls).
seat() {
    # shellcheck disable=SC2086 # split on purpose: one state a line
    printf '%s\n' $1 >"$d/states"
    printf '%s\n' "$2" >"$d/start"
    printf '%s\n' "$3" >"$d/end"
    rm -f "$d/down"
}

# run NAME USER HOOK [ARGS...]: runs HOOK like LightDM does (empty USER: none set).
run() {
    current=$1
    user=$2
    hook=$3
    shift 3
    cases=$((cases + 1))
    : >"$d/calls"
    : >"$d/log"
    rc=0
    if [ -n "$user" ]; then
        env -i SHELL=/bin/sh HOME=/ PATH="$bin:/usr/bin:/bin" FAKE_DIR="$d" \
            COMMUNE_HOOK_WAIT_SECONDS=3 USER="$user" LOGNAME="$user" \
            "$here/$hook" "$@" >"$d/out" 2>"$d/err" || rc=$?
    else
        env -i SHELL=/bin/sh HOME=/ PATH="$bin:/usr/bin:/bin" FAKE_DIR="$d" \
            COMMUNE_HOOK_WAIT_SECONDS=3 \
            "$here/$hook" "$@" >"$d/out" 2>"$d/err" || rc=$?
    fi
}

mismatch() {
    failures=$((failures + 1))
    echo "FAIL [$current]: $1"
    for f in calls log out err; do
        echo "  --- $f"
        sed 's/^/  | /' "$d/$f"
    done
}

expect_rc() {
    [ "$rc" -eq "$1" ] || mismatch "exit status $rc, expected $1"
}

# expect_out TEXT: stdout is exactly TEXT (empty: nothing).
expect_out() {
    if [ -n "$1" ]; then printf '%s\n' "$1" >"$d/want"; else : >"$d/want"; fi
    cmp -s "$d/want" "$d/out" || mismatch "stdout differs from '$1'"
}

# expect_calls LINE...: the agent (and sleep) were called exactly so, in this order.
expect_calls() {
    : >"$d/want"
    for line in "$@"; do printf '%s\n' "$line" >>"$d/want"; done
    cmp -s "$d/want" "$d/calls" || mismatch "calls differ from: $*"
}

expect_log() {
    grep -qF -- "$1" "$d/log" || mismatch "log lacks '$1'"
}

expect_stderr() {
    grep -qF -- "$1" "$d/err" || mismatch "stderr lacks '$1'"
}

# Checked after every case: the log never holds a visitor's file name, and every log
# line uses the agent's tag.
common_checks() {
    if grep -qF -- "$SECRET" "$d/log" "$d/out"; then
        mismatch "a visitor's file name reached the log or stdout"
    fi
    if grep -v -- '^-t commune-agent -p user\.[a-z]* -- lightdm: ' "$d/log" | grep -q .; then
        mismatch "a log line without 'logger -t commune-agent'"
    fi
}

STATUS='ctl status'
START='ctl start-session --kind free --name-only'
END='ctl end-session'

# --- guest-account add ----------------------------------------------------------------
seat ready ok verified
run "add: the agent starts a session" "" guest-account add
expect_rc 0
expect_out "$ACCOUNT"
expect_calls "$STATUS" "$START"
expect_log "guest-account add $ACCOUNT: session started"
common_checks

seat in_session ok verified
run "add: the visitor opened the session on the kiosk screens" "" guest-account add
expect_rc 0
expect_out "$ACCOUNT"
expect_calls "$STATUS"
expect_log "guest-account add $ACCOUNT: opened on the screens"
common_checks

seat blocked refuse verified
run "add: the agent refuses (seat blocked)" "" guest-account add
expect_rc 1
expect_out ""
expect_calls "$STATUS" "$START"
expect_log "refused by the agent"
expect_stderr "this computer is blocked"
common_checks

seat ready garbage verified
run "add: the agent prints no usable name" "" guest-account add
expect_rc 1
expect_out ""
expect_calls "$STATUS" "$START" "$END"
expect_log "no usable account name; session ended"
common_checks

seat ready ok verified
touch "$d/down"
run "add: the agent is unreachable" "" guest-account add
expect_rc 1
expect_out ""
expect_stderr "cannot reach the agent"
common_checks

# --- guest-account remove -------------------------------------------------------------
seat in_session ok verified
run "remove: wipe verified" "" guest-account remove "$ACCOUNT"
expect_rc 0
expect_out ""
expect_calls "$STATUS" "$END"
expect_log "guest-account remove $ACCOUNT: session ended, wipe verified"
common_checks

seat in_session ok unverified
run "remove: wipe NOT verified" "" guest-account remove "$ACCOUNT"
expect_rc 2
expect_out ""
expect_calls "$STATUS" "$END"
expect_log "guest-account remove $ACCOUNT: session ended, wipe NOT verified"
common_checks

seat ready ok verified
run "remove: no session running (cleanup wiped already)" "" guest-account remove "$ACCOUNT"
expect_rc 0
expect_calls "$STATUS" "$END" "$STATUS"
expect_log "no session running for it"
common_checks

seat "wiping wiping ready" ok verified
run "remove: the agent is still wiping (time up), then verified" "" guest-account remove "$ACCOUNT"
expect_rc 0
expect_calls "$STATUS" "$END" "$STATUS" "sleep 1" "$STATUS"
common_checks

seat "wiping blocked" ok verified
run "remove: the agent's own wipe did not verify" "" guest-account remove "$ACCOUNT"
expect_rc 2
expect_log "wipe NOT verified"
common_checks

seat wiping ok verified
run "remove: the agent never finishes wiping" "" guest-account remove "$ACCOUNT"
expect_rc 1
expect_calls "$STATUS" "$END" "$STATUS" "sleep 1" "$STATUS" "sleep 1" "$STATUS" "sleep 1" "$STATUS"
expect_log "still wiping after 3s"
common_checks

seat in_session ok stopped
run "remove: end-session fails otherwise" "" guest-account remove "$ACCOUNT"
expect_rc 1
expect_stderr "the session manager has stopped"
expect_log "end-session failed (exit 1)"
common_checks

seat in_session ok verified
run "remove: another account's session is left alone" "" guest-account remove cmn-99999999
expect_rc 1
expect_calls "$STATUS"
expect_log "another account's; left it alone"
common_checks

seat in_session ok verified
touch "$d/down"
run "remove: the agent is unreachable" "" guest-account remove "$ACCOUNT"
expect_rc 1
expect_stderr "cannot reach the agent"
common_checks

# --- guest-account usage --------------------------------------------------------------
for args in "" "frobnicate" "remove" "add extra"; do
    seat ready ok verified
    # shellcheck disable=SC2086 # split on purpose: each word is an argument
    run "usage: '$args'" "" guest-account $args
    expect_rc 64
    expect_out ""
    expect_calls
    expect_stderr "usage: guest-account add | guest-account remove USER"
    common_checks
done

# --- session-setup --------------------------------------------------------------------
seat in_session ok verified
run "setup: the agent's session for \$USER" "$ACCOUNT" session-setup
expect_rc 0
expect_calls "$STATUS"
expect_log "session-setup $ACCOUNT: session allowed"
common_checks

seat in_session ok verified
run "setup: a session for another account" "cmn-99999999" session-setup
expect_rc 1
expect_log "not the account of the running session"
common_checks

seat in_session ok verified
run "setup: a local account on the greeter" "marie" session-setup
expect_rc 1
common_checks

for state in ready wiping closed blocked; do
    seat "$state" ok verified
    run "setup: seat $state" "$ACCOUNT" session-setup
    expect_rc 1
    expect_log "refused, the seat is $state"
    common_checks
done

seat in_session ok verified
run "setup: no USER from LightDM" "" session-setup
expect_rc 1
expect_calls
common_checks

seat in_session ok verified
touch "$d/down"
run "setup: the agent is unreachable" "$ACCOUNT" session-setup
expect_rc 1
expect_log "the agent cannot be asked"
common_checks

# --- session-cleanup ------------------------------------------------------------------
seat in_session ok verified
run "cleanup: wipe verified" "$ACCOUNT" session-cleanup
expect_rc 0
expect_calls "$STATUS" "$END"
expect_log "session-cleanup $ACCOUNT: session ended, wipe verified"
common_checks
# The same hook again, then guest-account remove: nothing left, both succeed.
run "cleanup: idempotent" "$ACCOUNT" session-cleanup
expect_rc 0
expect_calls "$STATUS" "$END" "$STATUS"
common_checks
run "cleanup then remove" "" guest-account remove "$ACCOUNT"
expect_rc 0
common_checks

seat in_session ok unverified
run "cleanup: wipe NOT verified" "$ACCOUNT" session-cleanup
expect_rc 2
expect_log "wipe NOT verified"
common_checks
run "cleanup NOT verified, then remove" "" guest-account remove "$ACCOUNT"
expect_rc 2
common_checks

seat "wiping wiping ready" ok verified
run "cleanup: the agent ended the session itself" "$ACCOUNT" session-cleanup
expect_rc 0
expect_calls "$STATUS" "$END" "$STATUS" "sleep 1" "$STATUS"
common_checks

seat in_session ok verified
run "cleanup: no USER from LightDM" "" session-cleanup
expect_rc 1
expect_calls
common_checks

# --- the LightDM drop-in --------------------------------------------------------------
current="50-commune.conf"
conf=$here/50-commune.conf
: >"$d/calls"
: >"$d/log"
: >"$d/out"
: >"$d/err"
# key=value lines as "[section] key=value"
awk '/^\[/ { section = $0; next } /^[a-z]/ { print section " " $0 }' "$conf" >"$d/conf"
for want in \
    "[LightDM] guest-account-script=/usr/lib/commune-agent/lightdm/guest-account" \
    "[Seat:*] allow-guest=true" \
    "[Seat:*] greeter-allow-guest=true" \
    "[Seat:*] autologin-guest=false" \
    "[Seat:*] session-setup-script=/usr/lib/commune-agent/lightdm/session-setup" \
    "[Seat:*] session-cleanup-script=/usr/lib/commune-agent/lightdm/session-cleanup"; do
    cases=$((cases + 1))
    grep -qxF -- "$want" "$d/conf" || mismatch "50-commune.conf lacks '$want'"
done
cases=$((cases + 1))
if grep -q 'user-session=' "$d/conf"; then
    mismatch "50-commune.conf sets user-session; it must stay the default"
fi
for script in guest-account session-setup session-cleanup; do
    cases=$((cases + 1))
    [ -x "$here/$script" ] || mismatch "$script is not executable"
done

if [ "$failures" -gt 0 ]; then
    echo "test-hooks: $failures mismatch(es) in $cases cases"
    exit 1
fi
echo "test-hooks: $cases cases passed"
