// Drives Debian's Chromium through the dashboard, one scenario at a time, and runs axe-core
// in the page. Called by tests/tests/browser.rs; usable by hand:
//
//   node tests/browser/check.mjs '{"baseUrl": "http://127.0.0.1:8080", "steps": [...]}'
//   node tests/browser/check.mjs scenario.json
//   node tests/browser/check.mjs < scenario.json
//
// A scenario: {
//   "baseUrl": "http://127.0.0.1:8080",
//   "user": "marie", "password": "…",       // used by {"login": true}
//   "timeoutSecs": 120,                     // the whole run; then it fails
//   "stepTimeoutSecs": 10,                  // default for steps that wait
//   "steps": [ … ]
// }
// Steps (one key names the step; "timeoutSecs" beside it overrides the default):
//   {"goto": "/connexion"}                      navigate (path relative to baseUrl)
//   {"login": true} or {"login": {"user": "…", "password": "…"}}
//                                               fill and submit the /connexion form
//   {"expectStatus": 200}                       HTTP status of the last page loaded
//   {"expectText": "…"}                         wait for the text on the page
//   {"reloadUntilText": "…"}                    reload every 500 ms until the text shows
//   {"click": "Se déconnecter"}                 a button or link by its accessible name,
//                                               else a CSS selector
//   {"fill": {"selector": "#login", "value": "…"}} or {"fill": {"label": "…", "value": "…"}}
//   {"axe": true}                               no serious or critical WCAG 2.1 A/AA violation
//   {"screenshot": "target/screenshots/x.png"}  full page, path relative to the working dir
//   {"note": "…"}                               prints "note: …"; with "ackDir" in the scenario,
//                                               waits for the file ackDir/<n> (n-th note): the
//                                               caller acts, then lets the browser go on
//   {"expectJs": "document.dir === 'rtl'"}      wait until the expression is true in the page
//   {"expectNoText": "…"}                       the text is not on the page now
//   {"press": "Enter"}                          a key (waits for a navigation it starts)
//   {"type": "K7MN3XPA"}                        types into the focused element
//   {"tabTo": "Code du ticket"}                 Tab until the focus is on that control (by
//                                               accessible name, else selector): keyboard only
//   {"viewport": {"width": 640, "height": 400}} resize (640×400 is 1280×800 at 200 % zoom)
//   {"phone": "#phone-link"}                    opens that link's address on a phone (another
//                                               browser, Pixel 7 sized); the next steps act there
//   {"seat": true}                              back to the first browser's page
//   {"download": {"click": "…", "saveAs": "…"}} clicks the button, saves the download it starts
// One line per step on stdout; on the first failure, a message and exit status 1.
// COMMUNE_CHROMIUM names another Chromium than /usr/bin/chromium.

import { access, mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, devices } from 'playwright-core';

const CHROMIUM = process.env.COMMUNE_CHROMIUM ?? '/usr/bin/chromium';
// As root, without these Chromium waits on lookups of Google's hosts that this network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The visitor screens' warnings sound without a click first (as in the kiosk setup).
  '--autoplay-policy=no-user-gesture-required',
];
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const AXE_FAILING = new Set(['serious', 'critical']);

class StepFailure extends Error {}

async function readScenario() {
  const arg = process.argv[2];
  let text;
  if (arg === undefined || arg === '-') {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    text = Buffer.concat(chunks).toString('utf8');
  } else if (arg.trimStart().startsWith('{')) {
    text = arg;
  } else {
    text = await readFile(arg, 'utf8');
  }
  const scenario = JSON.parse(text);
  if (typeof scenario.baseUrl !== 'string' || !Array.isArray(scenario.steps)) {
    throw new StepFailure('the scenario needs "baseUrl" (a string) and "steps" (a list)');
  }
  return scenario;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The step's name: its one key that is not an option. */
function stepName(step) {
  const keys = Object.keys(step).filter((k) => k !== 'timeoutSecs');
  if (keys.length !== 1) {
    throw new StepFailure(`a step has exactly one action, not ${JSON.stringify(step)}`);
  }
  return keys[0];
}

function describe(step) {
  const name = stepName(step);
  const value = step[name];
  if (name === 'login') {
    return typeof value === 'object' ? `login as ${value.user}` : 'login';
  }
  if (name === 'fill') return `fill ${value.selector ?? value.label}`;
  return value === true ? name : `${name} ${JSON.stringify(value)}`;
}

class Runner {
  constructor(scenario, context, page) {
    this.scenario = scenario;
    this.context = context;
    this.seat = page;
    this.lastStatus = null;
    this.loads = 0;
    this.pageErrors = [];
    this.notes = 0;
    this.attach(page);
  }

  /** Follows `page` from now on: its loads, its errors, the status of its navigations. */
  attach(page) {
    this.page = page;
    if (page.commune_attached) return;
    page.commune_attached = true;
    const main = () => page.mainFrame();
    page.on('response', (response) => {
      const request = response.request();
      const redirect = response.status() >= 300 && response.status() < 400;
      if (request.isNavigationRequest() && request.frame() === main() && !redirect && this.page === page) {
        this.lastStatus = response.status();
      }
    });
    page.on('load', () => {
      if (this.page === page) this.loads += 1;
    });
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
    page.on('console', (message) => {
      // Chromium asks every site for a favicon; the dashboard has none.
      const quiet = message.location().url.endsWith('/favicon.ico');
      if (message.type() === 'error' && !quiet) console.log(`  console error: ${message.text()}`);
    });
  }

  url(path) {
    return new URL(path, this.scenario.baseUrl).toString();
  }

  text() {
    return this.page.evaluate(() => (document.body ? document.body.innerText : ''));
  }

  async excerpt() {
    const text = (await this.text().catch(() => '')).replace(/\s+/g, ' ').trim();
    return `${this.page.url()} shows: ${text.slice(0, 600)}${text.length > 600 ? '…' : ''}`;
  }

  /** Runs `action`; if it starts a navigation of the page, waits until the new page loaded. */
  async settle(action, timeoutMs, mustNavigate) {
    const loadsBefore = this.loads;
    let started = false;
    const onRequest = (request) => {
      if (request.isNavigationRequest() && request.frame() === this.page.mainFrame()) {
        started = true;
      }
    };
    this.page.on('request', onRequest);
    try {
      await action();
      // A click's navigation begins within a few milliseconds; a click without one is done.
      const grace = Date.now() + 300;
      while (!started && !mustNavigate && Date.now() < grace) await sleep(20);
      if (!started && !mustNavigate) return;
      const deadline = Date.now() + timeoutMs;
      while (this.loads === loadsBefore) {
        if (Date.now() > deadline) {
          throw new StepFailure(`no page loaded within ${timeoutMs / 1000} s`);
        }
        await sleep(20);
      }
    } finally {
      this.page.off('request', onRequest);
    }
  }

  async run(step, timeoutMs) {
    const name = stepName(step);
    const value = step[name];
    const page = this.page;
    switch (name) {
      case 'goto': {
        await page.goto(this.url(value), { timeout: timeoutMs });
        return '';
      }
      case 'login': {
        const user = typeof value === 'object' ? value.user : this.scenario.user;
        const password = typeof value === 'object' ? value.password : this.scenario.password;
        if (typeof user !== 'string' || typeof password !== 'string') {
          throw new StepFailure('login needs "user" and "password" (in the step or the scenario)');
        }
        if (new URL(page.url(), 'about:blank').pathname !== '/connexion') {
          await page.goto(this.url('/connexion'), { timeout: timeoutMs });
        }
        await page.fill('input[name="login"]', user, { timeout: timeoutMs });
        await page.fill('input[name="password"]', password, { timeout: timeoutMs });
        await this.settle(
          () => page.click('form[action="/connexion"] [type="submit"]', { timeout: timeoutMs }),
          timeoutMs,
          true,
        );
        return `→ ${new URL(page.url()).pathname} (${this.lastStatus})`;
      }
      case 'expectStatus': {
        if (this.lastStatus !== value) {
          throw new StepFailure(`expected HTTP ${value}, the last page came with ${this.lastStatus}`);
        }
        return '';
      }
      case 'expectText': {
        try {
          await page.waitForFunction(
            (t) => document.body !== null && document.body.innerText.includes(t),
            value,
            { timeout: timeoutMs, polling: 100 },
          );
        } catch (e) {
          if (e.name !== 'TimeoutError') throw e;
          throw new StepFailure(`"${value}" not on the page after ${timeoutMs / 1000} s; ${await this.excerpt()}`);
        }
        return '';
      }
      case 'reloadUntilText': {
        const deadline = Date.now() + timeoutMs;
        let reloads = 0;
        while (!(await this.text()).includes(value)) {
          if (Date.now() > deadline) {
            throw new StepFailure(
              `"${value}" not on the page after ${reloads} reloads in ${timeoutMs / 1000} s; ${await this.excerpt()}`,
            );
          }
          await sleep(500);
          await page.reload({ timeout: timeoutMs });
          reloads += 1;
        }
        return `(${reloads} reloads)`;
      }
      case 'click': {
        const byName = page
          .getByRole('button', { name: value, exact: true })
          .or(page.getByRole('link', { name: value, exact: true }));
        const target = (await byName.count()) > 0 ? byName.first() : page.locator(value).first();
        await this.settle(() => target.click({ timeout: timeoutMs }), timeoutMs, false);
        return `→ ${new URL(page.url()).pathname}`;
      }
      case 'fill': {
        if (typeof value?.value !== 'string') throw new StepFailure('fill needs "value"');
        const target = value.label ? page.getByLabel(value.label, { exact: true }) : page.locator(value.selector);
        await target.fill(value.value, { timeout: timeoutMs });
        return '';
      }
      case 'axe':
        return this.axe();
      case 'screenshot': {
        await mkdir(dirname(value), { recursive: true });
        await page.screenshot({ path: value, fullPage: true, timeout: timeoutMs });
        return '';
      }
      case 'note': {
        console.log(`note: ${value}`);
        this.notes += 1;
        if (this.scenario.ackDir) {
          // The caller acts on the note, then creates the file: wait for it.
          const ack = join(this.scenario.ackDir, String(this.notes));
          const deadline = Date.now() + timeoutMs;
          while (!(await access(ack).then(() => true, () => false))) {
            if (Date.now() > deadline) throw new StepFailure(`the test did not act on "${value}" within ${timeoutMs / 1000} s`);
            await sleep(50);
          }
        }
        return '';
      }
      case 'expectJs': {
        // An expression evaluated in the page until it is true. Polled from here: each
        // evaluation goes through the DevTools protocol, which the page's
        // Content-Security-Policy (no 'unsafe-eval') does not apply to, whereas
        // waitForFunction would evaluate the text inside the page.
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const ok = await page.evaluate(value).catch(() => false);
          if (ok) return '';
          if (Date.now() > deadline) {
            throw new StepFailure(`\`${value}\` still false after ${timeoutMs / 1000} s; ${await this.excerpt()}`);
          }
          await sleep(100);
        }
      }
      case 'expectNoText': {
        if ((await this.text()).includes(value)) {
          throw new StepFailure(`"${value}" is on the page; ${await this.excerpt()}`);
        }
        return '';
      }
      case 'press': {
        await this.settle(() => page.keyboard.press(value), timeoutMs, false);
        return `→ ${new URL(page.url()).pathname}`;
      }
      case 'type': {
        await page.keyboard.type(value);
        return '';
      }
      case 'tabTo': {
        // Keyboard only: Tab until the focus is on the control with this accessible name
        // (or matching this selector).
        for (let i = 0; i < 40; i += 1) {
          await page.keyboard.press('Tab');
          const here = await page.evaluate((target) => {
            const el = document.activeElement;
            if (!el || el === document.body) return false;
            const name = (el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText || '').trim();
            return name === target || el.matches(target);
          }, value).catch(() => false);
          if (here) return `(${i + 1} Tab)`;
        }
        throw new StepFailure(`"${value}" not reached with the Tab key; ${await this.excerpt()}`);
      }
      case 'media': {
        // "print" shows the page as it prints; "screen" back.
        await page.emulateMedia({ media: value === 'print' ? 'print' : 'screen' });
        return '';
      }
      case 'pdf': {
        // The page printed on A4, as Chromium's print does (print stylesheet included).
        await mkdir(dirname(value), { recursive: true });
        await page.pdf({ path: value, format: 'A4', printBackground: true, timeout: timeoutMs });
        return '';
      }
      case 'phone': {
        // The visitor's phone scans the code: a separate browser (nothing shared with the
        // seat's), phone-sized, touch, a phone's user agent, opening the link's address.
        const link = await page.locator(value).first().getAttribute('href', { timeout: timeoutMs });
        if (!link) throw new StepFailure(`no link at ${value}; ${await this.excerpt()}`);
        phoneBrowser ??= await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
        const phone = await phoneBrowser.newContext({ ...devices['Pixel 7'], acceptDownloads: true, locale: 'fr-FR' });
        const phonePage = await phone.newPage();
        this.attach(phonePage);
        await phonePage.goto(link, { timeout: timeoutMs });
        return `→ ${new URL(link).pathname} on a ${phonePage.viewportSize().width}×${phonePage.viewportSize().height} phone`;
      }
      case 'seat': {
        // Back to the seat's browser.
        this.attach(this.seat);
        return '';
      }
      case 'download': {
        // Clicks, waits for the download the click starts, and saves it.
        if (typeof value?.click !== 'string' || typeof value?.saveAs !== 'string') {
          throw new StepFailure('download needs "click" and "saveAs"');
        }
        const target = page.getByRole('button', { name: value.click, exact: true }).first();
        const [download] = await Promise.all([
          page.waitForEvent('download', { timeout: timeoutMs }),
          target.click({ timeout: timeoutMs }),
        ]);
        await mkdir(dirname(value.saveAs), { recursive: true });
        await download.saveAs(value.saveAs);
        return `saved ${download.suggestedFilename()}`;
      }
      case 'viewport': {
        await page.setViewportSize({ width: value.width, height: value.height });
        return '';
      }
      default:
        throw new StepFailure(`unknown step "${name}"`);
    }
  }

  async axe() {
    const page = this.page;
    // Evaluated rather than added as a <script>: a Content-Security-Policy must not be
    // weakened for the test, and does not apply to evaluation from outside the page.
    if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
      await page.evaluate(axeSource);
    }
    const result = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
      AXE_TAGS,
    );
    const failing = result.violations.filter((v) => AXE_FAILING.has(v.impact));
    const lesser = result.violations.filter((v) => !AXE_FAILING.has(v.impact));
    const notes = lesser.map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`).join(', ');
    if (failing.length === 0) {
      return `${new URL(page.url()).pathname}: no serious or critical violation` + (notes ? `; lesser: ${notes}` : '');
    }
    const lines = [`${failing.length} serious or critical accessibility violation(s) on ${page.url()}:`];
    for (const v of failing) {
      lines.push(`  ${v.id} [${v.impact}] ${v.help}`);
      lines.push(`    ${v.helpUrl}`);
      for (const node of v.nodes) {
        lines.push(`    at ${node.target.join(' ')}: ${node.html.slice(0, 200)}`);
        for (const reason of (node.failureSummary ?? '').split('\n').slice(1)) {
          if (reason.trim()) lines.push(`      ${reason.trim()}`);
        }
      }
    }
    if (notes) lines.push(`  (lesser: ${notes})`);
    throw new StepFailure(lines.join('\n'));
  }
}

const require = createRequire(import.meta.url);
const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

let context;
let phoneBrowser;
let profile;
let status = 0;
let timedOut = false;
let cleaning;
function cleanUp() {
  // Once, whoever asks first (the end of the run or the global timer). Chromium may still
  // be writing its profile as it exits: rm retries on ENOTEMPTY.
  cleaning ??= (async () => {
    await context?.close().catch(() => {});
    await phoneBrowser?.close().catch(() => {});
    if (profile) {
      await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }).catch((e) =>
        console.log(`  could not remove the browser profile ${profile}: ${e.message}`),
      );
    }
  })();
  return cleaning;
}

try {
  const scenario = await readScenario();
  const totalSecs = scenario.timeoutSecs ?? 120;
  const stepSecs = scenario.stepTimeoutSecs ?? 10;
  const timer = setTimeout(async () => {
    timedOut = true;
    status = 1;
    console.log(`FAIL: the scenario did not finish within ${totalSecs} s`);
    await cleanUp();
    process.exit(1);
  }, totalSecs * 1000);

  profile = await mkdtemp(join(tmpdir(), 'commune-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: 'fr-FR',
    viewport: { width: 1280, height: 800 },
    timeout: 30_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const runner = new Runner(scenario, context, page);
  const total = scenario.steps.length;
  for (const [i, step] of scenario.steps.entries()) {
    const label = `${String(i + 1).padStart(2)}/${total} ${describe(step)}`;
    const started = Date.now();
    try {
      const detail = await runner.run(step, (step.timeoutSecs ?? stepSecs) * 1000);
      if (runner.pageErrors.length > 0) {
        throw new StepFailure(`uncaught error in the page: ${runner.pageErrors.join('; ')}`);
      }
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`ok   ${label}${detail ? ` ${detail}` : ''} (${secs} s)`);
    } catch (e) {
      if (timedOut) break; // the timer reported it and is closing the browser
      const message = e instanceof StepFailure ? e.message : `${e.name}: ${e.message}`;
      console.log(`FAIL ${label}\n${message}`);
      status = 1;
      break;
    }
  }
  clearTimeout(timer);
} catch (e) {
  const message = e instanceof StepFailure ? e.message : (e.stack ?? String(e));
  console.log(`FAIL: ${message}`);
  status = 1;
}
await cleanUp();
process.exit(status);
