// Drives VS Code (code-server) in headless Chromium: the bpf-lsp diagnostic
// reaches the Problems panel, hover names the lock, the quick fix applies
// and the diagnostic clears; the user-space loader.c gets nothing from
// bpf-lsp, while progs/demo.c (a BPF program by its text, not its name)
// is checked. Exits non-zero on failure and saves screenshots in the given
// directory either way.
const { chromium } = require('playwright-core');

const [url, shots] = process.argv.slice(2);
const MSG = "requires holding 'glock'";

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const step = (s) => console.log(`vscode: ${s}`);
  try {
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
    step('workbench loaded');
    await page.waitForTimeout(2000);
    await page.click('.monaco-workbench');
    await page.keyboard.press('Control+P');
    await page.keyboard.type('demo.bpf.c');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'demo.bpf.c' }).first().click({ timeout: 30000 });
    await page.waitForSelector('.editor-instance .monaco-editor .view-lines', { timeout: 30000 });
    step('file open');
    await page.keyboard.press('Control+Shift+M');
    await page.waitForFunction((m) => {
      const p = document.querySelector('.markers-panel');
      return p && p.textContent.includes(m);
    }, MSG, { timeout: 60000 });
    const problems = await page.textContent('.markers-panel');
    step('problems panel: ' + problems.replace(/\s+/g, ' ').slice(0, 200));
    await page.screenshot({ path: `${shots}/vscode-problems.png` });

    // Hover on nr_nodes (line 28): the hover names its lock.
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('Control+G');
    await page.keyboard.type('28');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    const token = page.locator('.editor-instance .view-lines span', { hasText: /^nr_nodes$/ }).first();
    // At the token's end: an inlay hint ("holds glock:") may be drawn
    // inside the same span, before the text, and has a hover of its own.
    const box = await token.boundingBox();
    await token.hover({ position: { x: box.width - 4, y: box.height / 2 } });
    await page.waitForFunction(() => {
      const h = [...document.querySelectorAll('.monaco-hover')].map((e) => e.textContent).join(' ');
      return h.includes('Guarded by') && h.includes('glock');
    }, null, { timeout: 30000 });
    const hoverText = await page.evaluate(() => [...document.querySelectorAll('.monaco-hover')].map((e) => e.textContent).join(' '));
    step('hover: ' + hoverText.replace(/\s+/g, ' ').trim().slice(0, 200));
    await page.waitForTimeout(500); // let the hover finish fading in
    await page.screenshot({ path: `${shots}/vscode-hover.png` });
    await page.keyboard.press('Escape');

    // Quick fix on the unlocked bpf_rbtree_add (line 26).
    await page.keyboard.press('Control+G');
    await page.keyboard.type('26');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    await page.locator('.editor-instance .view-lines span', { hasText: /^bpf_rbtree_add$/ }).first().click();
    await page.keyboard.press('Control+.');
    await page.waitForFunction(() => document.body.textContent.includes('Wrap in bpf_spin_lock/unlock'), null, { timeout: 30000 });
    await page.screenshot({ path: `${shots}/vscode-quickfix.png` });
    await page.keyboard.press('Enter');
    await page.waitForFunction((m) => {
      const p = document.querySelector('.markers-panel');
      return p && !p.textContent.includes(m);
    }, MSG, { timeout: 60000 });
    step('quick fix applied, diagnostic cleared');
    await page.screenshot({ path: `${shots}/vscode-fixed.png` });

    // The user-space loader.c in the same folder: bpf-lsp stays off it
    // (it would report its undeclared identifier as BL001).
    await page.keyboard.press('Control+P');
    await page.keyboard.type('loader.c');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'loader.c' }).first().click({ timeout: 30000 });
    await page.waitForFunction(() => document.querySelector('.tab.active')?.textContent.includes('loader.c'), null, { timeout: 30000 });
    await page.waitForTimeout(5000);
    const after = await page.textContent('.markers-panel');
    if (after.includes('loader.c') || after.includes('undeclared_counter')) {
      throw new Error('bpf-lsp reported on the user-space loader.c: ' + after.replace(/\s+/g, ' ').slice(0, 200));
    }
    step('loader.c: no bpf-lsp diagnostics');

    // progs/demo.c: no *.bpf.c name, no bpf_helpers.h (the server's own
    // workspace scan skips it), but SEC("tc"): selected by its text.
    await page.keyboard.press('Control+P');
    await page.keyboard.type('progs/demo.c');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'demo.c' }).first().click({ timeout: 30000 });
    await page.waitForFunction(() => document.querySelector('.tab.active')?.textContent.includes('demo.c'), null, { timeout: 30000 });
    await page.waitForFunction((m) => {
      const p = document.querySelector('.markers-panel');
      return p && p.textContent.includes('demo.c') && p.textContent.includes(m);
    }, MSG, { timeout: 60000 });
    step('progs/demo.c (selected by content): ' + (await page.textContent('.markers-panel')).replace(/\s+/g, ' ').slice(0, 200));
    await page.screenshot({ path: `${shots}/vscode-content.png` });
    for (const s of ["problems", "hover", "quickfix", "fixed", "content"]) console.log(`vscode: screenshot ${shots}/vscode-${s}.png`);
    console.log('vscode: OK');
  } catch (e) {
    await page.screenshot({ path: `${shots}/vscode-fail.png` }).catch(() => {});
    console.error(`vscode: FAIL: ${e.message} (screenshot ${shots}/vscode-fail.png)`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main();
