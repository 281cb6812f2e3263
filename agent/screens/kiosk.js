// Commune: the visitor's screens. Follows the seat's state (/etat.json) so that a screen
// never shows something stale: the countdown ticks, the warnings at T−5 and T−1 appear and
// sound, the notice leaves for "erased" when the session ends, the greeter reloads when
// the slot changes. No page the visitor is reading (the charter) has this script.
(function () {
  'use strict';
  const body = document.body;
  const lang = body.dataset.lang;
  const page = body.dataset.page;
  const shownState = body.dataset.state;
  // Counted for the tests and for anyone checking that the warning sounded.
  window.communeBeeps = 0;

  function beep(times) {
    window.communeBeeps += times;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      const audio = new Context();
      for (let i = 0; i < times; i += 1) {
        const start = audio.currentTime + i * 0.45;
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.3);
        tone.connect(gain).connect(audio.destination);
        tone.start(start);
        tone.stop(start + 0.32);
      }
      setTimeout(() => audio.close(), times * 450 + 500);
    } catch (e) {
      // No sound device: the warning stays visible.
    }
  }

  function clock(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor(seconds / 60) % 60;
    const s = seconds % 60;
    const two = (n) => String(n).padStart(2, '0');
    return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
  }

  const countdown = document.getElementById('countdown');
  const box = document.getElementById('warning-box');
  let seconds = countdown ? Number(countdown.dataset.seconds) : null;
  let warning = box && box.dataset.warning ? Number(box.dataset.warning) : null;
  let session = null;

  // Each warning sounds once per session, even if the page reloads.
  function sound(level) {
    const key = `commune-warned-${session}-${level}`;
    try {
      if (sessionStorage.getItem(key)) return;
      sessionStorage.setItem(key, '1');
    } catch (e) {
      // Storage off: sound anyway.
    }
    beep(level <= 1 ? 3 : 2);
  }

  function showWarning(level) {
    if (!box) return;
    const text = level <= 1 ? box.dataset.w1 : box.dataset.w5;
    const div = document.createElement('div');
    div.className = 'warning';
    const h2 = document.createElement('h2');
    h2.textContent = box.dataset.title;
    const p = document.createElement('p');
    p.className = 'big';
    p.textContent = text;
    div.append(h2, p);
    box.replaceChildren(div);
    box.dataset.warning = String(level);
  }

  function render() {
    countdown.textContent = clock(seconds);
    countdown.dataset.seconds = String(seconds);
  }
  if (countdown) {
    setInterval(() => {
      if (seconds > 0) seconds -= 1;
      render();
    }, 1000);
  }

  // The call for a mediator: sent, then taken ("a mediator is coming"), shown at once.
  const helpBox = document.getElementById('help-box');
  // The session's print jobs waiting for the visitor: a new one (or one staff released)
  // shows at once.
  const printBox = document.getElementById('print-box');

  async function poll() {
    let seat;
    try {
      const response = await fetch('/etat.json', { cache: 'no-store' });
      if (!response.ok) return;
      seat = await response.json();
    } catch (e) {
      return; // the agent restarts: try again
    }
    // The site's closing warning begins (or ends): show it.
    if ((page === 'session' || page === 'ready') && body.dataset.closing !== undefined
        && (seat.closing ? '1' : '0') !== body.dataset.closing && !seat.away) {
      location.reload();
      return;
    }
    if (helpBox && (seat.help || 'none') !== helpBox.dataset.help && (seat.session || page !== 'session')) {
      location.reload();
      return;
    }
    if (printBox && seat.session && (seat.print || '') !== printBox.dataset.print) {
      location.reload();
      return;
    }
    if (page === 'session') {
      if (!seat.session) {
        location.assign(`/${lang}/efface`);
        return;
      }
      // Stepped away (from another window of the session): the pause screen.
      if (seat.state === 'stepped_away') {
        location.assign(`/${lang}/pause`);
        return;
      }
      // A device alarm raised or lifted: show it.
      if ((seat.state === 'device_alarm') !== (shownState === 'device_alarm')) {
        location.reload();
        return;
      }
      if (session === null) {
        session = seat.session;
        if (warning) sound(warning);
      }
      if (seat.seconds_left !== null && seat.seconds_left !== undefined && countdown) {
        seconds = seat.seconds_left;
        render();
      }
      if (seat.warning && seat.warning !== warning) {
        warning = seat.warning;
        showWarning(warning);
        sound(warning);
      }
    } else if (page === 'away') {
      if (!seat.session) location.assign(`/${lang}/efface`);
      else if (seat.state !== 'stepped_away') location.assign(`/${lang}/session`);
      else if (countdown && seat.away_seconds_left !== null && seat.away_seconds_left !== undefined) {
        seconds = seat.away_seconds_left;
        render();
      }
    } else if (page === 'wait') {
      if (seat.session) location.assign(`/${lang}/session`);
      else if (seat.state !== shownState) location.reload();
    } else if (page === 'wiping' || page === 'ready') {
      if (seat.session) location.assign(`/${lang}/session`);
      else if (seat.state !== shownState) location.reload();
    }
  }
  poll();
  setInterval(poll, 1000);
})();
