// Starts `syncstudio playground` on a free port for one test file and stops
// it afterwards. The binary is $SYNCSTUDIO_BIN or the workspace's debug build.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export async function startPlayground(args = []) {
  const bin = process.env.SYNCSTUDIO_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'debug', 'syncstudio');
  const home = mkdtempSync(path.join(tmpdir(), 'syncstudio-jsforce-'));
  const child = spawn(bin, ['playground', '--port', '0', ...args], {
    env: { ...process.env, SYNCSTUDIO_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`playground exited with ${code}`)));
    lines.once('line', resolve);
  });
  const match = /^listening on (\S+)$/.exec(first);
  if (!match) throw new Error(`unexpected first line: ${first}`);
  const baseUrl = match[1];
  return {
    baseUrl,
    async control(pathname, body, method = 'POST') {
      const res = await fetch(`${baseUrl}/__emulator${pathname}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`control ${pathname}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}

// Plays the user in the browser: loads the authorization URL, submits the
// login form and then the consent form with the given choice, and returns
// the redirect it was sent to.
export async function playBrowser(authorizationUrl, choice = 'allow') {
  const origin = new URL(authorizationUrl).origin;
  const loginPage = await (await fetch(authorizationUrl)).text();
  const consentPage = await submitForm(origin, loginPage, 'login', {});
  const res = await submitForm(origin, await consentPage.text(), 'consent', { action: choice }, 'manual');
  if (res.status !== 302) throw new Error(`expected a redirect, got ${res.status}: ${await res.text()}`);
  return new URL(res.headers.get('location'));
}

async function submitForm(origin, html, formId, extra, redirect = 'follow') {
  const form = new RegExp(`<form[^>]*id="${formId}"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  if (!form) throw new Error(`no form #${formId} in page: ${html.slice(0, 300)}`);
  const action = /action="([^"]+)"/.exec(form[0])[1];
  const fields = new URLSearchParams();
  for (const input of form[1].matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]+)"/.exec(input[0]);
    const value = /value="([^"]*)"/.exec(input[0]);
    if (name) fields.set(name[1], unescapeHtml(value ? value[1] : ''));
  }
  for (const [k, v] of Object.entries(extra)) fields.set(k, v);
  return fetch(new URL(action, origin), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
    redirect,
  });
}

function unescapeHtml(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
