// Drives the web console of `shopbridge serve` (demo mode) in headless Chromium, as an operator
// would: sign in, connect shops through the platforms' own pages (Vipshop JIT, re-authorized;
// Winit, whose token must leave the address bar), sync and read a stream's history, filter,
// open, ship and export orders, splice and generate links, read earnings on a chart after the
// sandbox's clock moves on, revoke and delete a shop. Then every page is opened in Chinese and
// in English, at desktop and phone width: no page may show a message missing from the catalogs,
// text of the other language outside data, a horizontal scroll at phone width, a console error,
// a failed request or an error status from the hub. A screenshot of each is written to
// e2e/screenshots/. Exits non-zero on the first failed expectation.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });
const bin = process.env.SHOPBRIDGE_BIN ?? join(here, '..', 'target', 'debug', 'shopbridge');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

function expect(condition, message) {
  if (!condition) throw new Error(`expected: ${message}`);
}

/** Starts `shopbridge serve` and resolves with its URL once it prints `ready`. */
function serve() {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('SHOPBRIDGE_')) delete env[name];
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--union-goods', '200'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  return new Promise((resolve, reject) => {
    let url;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const found = line.match(/^shopbridge hub at (\S+)/);
      if (found) url = found[1];
      if (line === 'ready') resolve({ child, url });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

async function json(url, options) {
  const response = await fetch(url, options);
  expect(response.ok, `${url} answers 2xx, got ${response.status}`);
  return response.json();
}

const { child, url: hub } = await serve();
const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });

// Everything the hub's pages do wrong, gathered while the browser works.
const problems = [];
function watch(page) {
  const ours = (url) => url.startsWith(hub);
  page.on('console', (message) => {
    if (message.type() === 'error' && ours(page.url())) problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A download's request ends as "aborted" for the page; it is read as a download.
    const aborted = request.failure()?.errorText === 'net::ERR_ABORTED';
    if (ours(request.url()) && !aborted) problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (ours(response.url()) && response.status() >= 400) problems.push(`HTTP ${response.status()} from ${response.url()}`);
  });
}

/** Text the page shows outside data (`translate="no"`, code, options) that is not in `lang`. */
async function untranslated(page, lang) {
  return page.evaluate((lang) => {
    // Names and units both languages write in Latin letters.
    const allowed = new Set(['shopbridge', 'pid', 'appkey', 'appsecret', 'chantag', 'statparam', 'csv',
      'webhook', 'jit', 'api', 'sku', 'trafrom', 'app', 'http', 'rest', 'yyyy', 'ios', 'adp', 'min', 'vop', 'url']);
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const element = node.parentElement;
      if (!element || element.closest('[translate="no"], script, style, code, .mono, select, title')) continue;
      const text = node.textContent.trim();
      if (!text) continue;
      if (lang === 'en' && /[\u3400-\u9fff]/.test(text)) found.push(text);
      if (lang === 'zh') {
        const words = (text.match(/[A-Za-z]{2,}/g) || []).filter((word) => !allowed.has(word.toLowerCase()));
        if (words.length) found.push(text);
      }
    }
    return found;
  }, lang);
}

/** Checks the page as it stands and writes its screenshot. */
async function check(page, name, lang, phone) {
  const html = await page.content();
  expect(!html.includes('⟦'), `${name} (${lang}): every message is in the catalog`);
  const foreign = await untranslated(page, lang);
  expect(foreign.length === 0, `${name} (${lang}): only ${lang} text outside data, found ${JSON.stringify(foreign.slice(0, 5))}`);
  expect(await page.locator('html').getAttribute('lang') === (lang === 'zh' ? 'zh-CN' : 'en'), `${name}: the page says its language`);
  if (phone) {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 1, `${name} (${lang}): no horizontal scroll at phone width, got ${overflow}px`);
  }
  await page.screenshot({ path: join(shots, `${name}-${lang}${phone ? '-phone' : ''}.png`), fullPage: true });
}

/** Reads a download started by clicking `link`. */
async function download(page, link) {
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  return readFileSync(await file.path(), 'utf8');
}

try {
  const demo = await json(`${hub}/demo/credentials`);
  const sandbox = demo.sandbox;
  const platform = await json(`${sandbox}/_sandbox/credentials`);
  const vendor = platform.vop.users.find((user) => user.role === 'vendor');
  const seller = platform.winit.sellers[0];
  const bearer = { authorization: `Bearer ${demo.appkey}:${demo.appsecret}` };
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  watch(page);
  // Pages to open in both languages and both widths at the end: [name, path].
  const tour = [];

  const signIn = async () => {
    await page.goto(`${hub}/console/login?lang=en`);
    await page.getByLabel('App key').fill(demo.appkey);
    await page.getByLabel('App secret').fill(demo.appsecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/shops/);
  };

  // Signing in.
  await page.goto(`${hub}/console/login?lang=en`);
  await check(page, 'login', 'en', false);
  await signIn();
  expect(await page.locator('h1').textContent() === 'Shops', 'the shops page after signing in');
  expect(await page.locator('tr[data-shop]').count() === 3, 'the three demo shops');

  // Connecting a Vipshop JIT shop through the sandbox's login and consent pages; the result
  // page is the console's, in English, and leads to the shop.
  const jitForm = page.locator('form', { has: page.getByRole('button', { name: 'Connect Vipshop JIT' }) });
  await jitForm.getByLabel('Shop name').fill('新开的唯品会JIT店铺（测试一个很长的中文名字，看看表格是否还能保持整齐）');
  await jitForm.getByLabel('Vendor id').fill(String(platform.vop.vendor_id));
  await jitForm.getByRole('button', { name: 'Connect Vipshop JIT' }).click();
  await page.locator('#username').fill(vendor.username);
  await page.locator('#password').fill(vendor.password);
  await page.locator('#login').click();
  await page.locator('#approve').click();
  await page.waitForSelector('#title');
  expect(await page.locator('#title').textContent() === 'Shop connected', 'the hub stored the shop');
  expect(!page.url().includes('code='), `the callback's code left the address bar: ${page.url()}`);
  await check(page, 'connected', 'en', false);
  await page.getByRole('link', { name: 'See the shop in the console' }).click();
  expect(await page.locator('tr[data-shop]').count() === 4, 'the new shop is listed');
  expect(await page.locator('tr.highlighted').count() === 1, 'the new shop is pointed out');
  expect(await page.locator('[data-expires]').count() >= 1, 'token expiry countdowns');
  const countdown = await page.locator('[data-expires]').first().textContent();
  expect(/\d+ d \d+ h/.test(countdown), `a countdown in days and hours, got ${countdown}`);

  // Re-authorizing that shop: the platform's pages again, and the same shop comes back.
  const newShop = page.locator('tr[data-shop]', { hasText: '新开的唯品会JIT店铺' });
  const newShopId = await newShop.getAttribute('data-shop');
  await newShop.getByRole('button', { name: /Re-authorize/ }).click();
  await page.locator('#username').fill(vendor.username);
  await page.locator('#password').fill(vendor.password);
  await page.locator('#login').click();
  await page.locator('#approve').click();
  await page.waitForSelector('#title');
  expect(await page.locator('#title').textContent() === 'Shop re-authorized', 'the same shop authorized again');
  await page.getByRole('link', { name: 'See the shop in the console' }).click();
  expect(await page.locator('tr[data-shop]').count() === 4, 'no second shop');
  expect(await page.locator(`tr[data-shop="${newShopId}"]`).count() === 1, 'the same connection');

  // Connecting a Winit warehouse: Winit answers the token in the address, which the result
  // page takes out of the address bar and history at once.
  const winitForm = page.locator('form', { has: page.getByRole('button', { name: 'Connect Winit' }) });
  await winitForm.getByLabel('Shop name').fill('第二个万邑通仓');
  await winitForm.getByLabel('Winit seller account').fill(seller.app_key);
  await winitForm.getByRole('button', { name: 'Connect Winit' }).click();
  await page.locator('#username').fill(seller.app_key);
  await page.locator('#password').fill(seller.password);
  await page.locator('#authorize').click();
  await page.waitForSelector('#title');
  expect(await page.locator('#title').textContent() === 'Shop connected', 'the warehouse is connected');
  await page.waitForFunction(() => !window.location.search);
  expect(!page.url().includes('access_token'), `the token left the address bar: ${page.url()}`);
  const history = await page.evaluate(() => window.history.length);
  await page.goBack();
  expect(!page.url().includes('access_token'), `the token is not in the history either: ${page.url()} (${history} entries)`);
  await page.goto(`${hub}/console/shops`);
  expect(await page.locator('tr[data-shop]').count() === 5, 'the warehouse is listed');
  tour.push(['shops', '/console/shops']);

  // Sync now: the page says so and refreshes itself until every stream has completed.
  await page.goto(`${hub}/console/sync`);
  await page.getByRole('button', { name: 'Sync now' }).click();
  await page.waitForURL(/\/console\/sync/);
  expect((await page.locator('.notice').first().textContent()).includes('Sync started'), 'the sync was started');
  let done = false;
  for (let i = 0; i < 240 && !done; i++) {
    let outcomes = [];
    try {
      await page.waitForLoadState('load');
      outcomes = await page.locator('tr[data-stream]').evaluateAll((rows) => rows.map((row) => row.dataset.outcome));
    } catch (error) {
      // The page reloaded itself while it was read: look again.
    }
    done = outcomes.length >= 13 && outcomes.every((outcome) => outcome === 'complete');
    if (!done) await page.waitForTimeout(250);
  }
  expect(done, 'every stream to finish');
  // A fresh look: nothing runs, so the page no longer reloads itself.
  await page.goto(`${hub}/console/sync`);
  expect(await page.locator('[data-live]').count() === 0, 'no live runs left');
  tour.push(['sync', '/console/sync']);
  await page.locator('tr[data-stream="jit_orders"] a').first().click();
  expect(await page.locator('tr[data-run]').count() >= 1, 'the stream has its run history');
  tour.push(['sync-stream', new URL(page.url()).pathname]);

  // Orders: search, filter by status, export, open one.
  const jit = demo.shops.find((shop) => shop.platid === '9002');
  await page.goto(`${hub}/console/orders?shop=${jit.connection_id}`);
  const first = (await page.locator('tr[data-order]').first().getAttribute('data-order'));
  await page.getByLabel('Order number').fill(first);
  await page.getByRole('button', { name: 'Apply' }).click();
  expect(await page.locator('tr[data-order]').count() === 1, `one order matches ${first}`);
  await page.getByRole('link', { name: 'Clear filters' }).click();
  await page.getByLabel('Status').selectOption({ label: 'Awaiting shipment' });
  await page.getByRole('button', { name: 'Apply' }).click();
  const statuses = await page.locator('tr[data-order] td:nth-child(2)').allTextContents();
  expect(statuses.length > 0 && statuses.every((s) => s.trim() === 'Awaiting shipment'), `only orders awaiting shipment, got ${statuses}`);
  const exported = await download(page, page.getByRole('link', { name: 'Export CSV' }));
  const lines = exported.trim().split('\n');
  expect(lines[0].replace('\ufeff', '').startsWith('Order,Status,Last change,Amount'), `a CSV header, got ${lines[0]}`);
  expect(lines.length - 1 === statuses.length, `the export holds the filtered orders (${lines.length - 1} of ${statuses.length})`);
  tour.push(['orders', new URL(page.url()).pathname + new URL(page.url()).search]);
  await page.locator('tr[data-order] a').first().click();
  expect((await page.locator('h1 .badge').textContent()) === 'Awaiting shipment', 'the status in words');
  expect(await page.locator('tr[data-line]').count() >= 1, 'the order lines');
  expect(await page.locator('.timeline > li').count() >= 1, 'the order history');
  const orderPath = new URL(page.url()).pathname;
  tour.push(['order', orderPath]);
  // Shipping it through the platform, from the order page.
  await page.getByLabel('Carrier').selectOption('JH_014');
  await page.getByLabel('Tracking number').fill('SF1234567890');
  await page.getByRole('button', { name: 'Ship', exact: true }).click();
  const shipped = await page.locator('[data-result]').textContent();
  expect(shipped.includes('SF1234567890'), `the platform took the shipment: ${shipped}`);
  expect(await page.getByRole('button', { name: 'Ship', exact: true }).count() === 0, 'no second shipment is offered');
  await page.screenshot({ path: join(shots, 'order-shipped-en.png'), fullPage: true });
  await page.goto(`${hub}${orderPath}`);
  await page.getByRole('button', { name: 'Check with the platform' }).click();
  expect((await page.locator('[data-result]').textContent()).length > 0, 'the platform answered the refund check');

  // Links: splice one, and make buyers click a generated one.
  const union = demo.shops.find((shop) => shop.platid === '9001');
  const goods = await json(`${hub}/v1/union/goods?shop=${union.connection_id}&page_size=1`, { headers: bearer });
  const goodsId = goods.goodsInfoList[0].goodsId;
  await page.goto(`${hub}/console/links`);
  await page.getByLabel('Text or link').fill(`快看 https://m.vip.com/product-1-${goodsId}.html 超值`);
  await page.getByLabel('chanTag (PID)').fill('pid_e2e');
  await page.getByRole('button', { name: 'Detect and generate' }).click();
  const spliced = await page.locator('[data-spliced]').first().textContent();
  expect(spliced.includes('chanTag=pid_e2e'), `a spliced link, got ${spliced}`);
  const link = await page.locator('code[data-link="url"]').first().textContent();
  expect(await page.getByRole('button', { name: 'Copy' }).count() >= 2, 'copy buttons');
  await check(page, 'links-result', 'en', false);
  tour.push(['links', '/console/links']);
  await json(`${sandbox}/_sandbox/vop/union/clicks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ link, orders: 6, scenario: 'settles' }),
  });

  // Forty days on the orders have settled: sync, then the earnings chart shows them.
  await json(`${sandbox}/_sandbox/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advance_seconds: 40 * 86400 }),
  });
  const runs = await json(`${hub}/v1/sync/run`, { method: 'POST', headers: bearer });
  expect(runs.runs.some((run) => run.stream === 'union_orders' && run.ok), 'the Union orders synced');
  await signIn(); // the session expired with the clock
  await page.goto(`${hub}/console/earnings?shop=${union.connection_id}&days=45`);
  expect(await page.locator('.chart .day').count() === 46, 'a band per Beijing day of the period');
  expect(await page.locator('.chart rect.commission').count() >= 1, 'commission bars');
  expect(await page.locator('.legend li').count() === 3, 'a legend');
  expect(await page.locator('.chart .axis text').count() >= 8, 'axes with amounts and dates');
  expect(await page.locator('tr[data-pid="pid_e2e"]').count() === 1, 'the PID earned');
  const earningDay = page.locator('.chart .day', { has: page.locator('rect.commission') }).first();
  await earningDay.hover();
  const tip = await page.locator('.chart .tooltip').textContent();
  expect(!(await page.locator('.chart .tooltip').isHidden()) && tip.includes('Settled commission: ¥'), `hover shows the day's values, got ${tip}`);
  await page.screenshot({ path: join(shots, 'earnings-hover-en.png'), fullPage: true });
  const earningsCsv = await download(page, page.getByRole('link', { name: 'Export CSV' }));
  expect(earningsCsv.includes('pid_e2e'), 'the earnings export has the PID');
  tour.push(['earnings', `/console/earnings?shop=${union.connection_id}&days=45`]);
  await page.goto(`${hub}/console/orders?shop=${union.connection_id}`);
  await page.locator('tr[data-order] a').first().click();
  expect(await page.locator('[data-commission]').count() === 1, 'a Union order page');
  tour.push(['union-order', new URL(page.url()).pathname]);

  // Activity in words, with shop names.
  await page.goto(`${hub}/console/activity`);
  expect(await page.locator('tr[data-action="connect"]').count() >= 1, 'connections are audited');
  expect((await page.locator('body').textContent()).includes('Signed in to the console'), 'actions in words');
  tour.push(['activity', '/console/activity']);

  // Revoking asks first; a revoked shop says so, leaves the sync page, and can be deleted.
  const warehouse = page.locator('tr[data-shop]', { hasText: '第二个万邑通仓' }).first();
  await page.goto(`${hub}/console/shops`);
  page.once('dialog', (dialog) => dialog.dismiss());
  await warehouse.getByRole('button', { name: /Revoke/ }).click();
  expect(await warehouse.locator('.badge').first().textContent() === 'Active', 'a dismissed confirmation changes nothing');
  page.once('dialog', (dialog) => dialog.accept());
  await warehouse.getByRole('button', { name: /Revoke/ }).click();
  await page.waitForURL(/done=revoked/);
  expect(await warehouse.locator('.badge').first().textContent() === 'Revoked', 'the shop says it is revoked');
  expect(await warehouse.locator('[data-expires]').count() === 0, 'no countdown for a revoked shop');
  const warehouseId = await warehouse.getAttribute('data-shop');
  const revokedRow = page.locator(`tr[data-shop="${warehouseId}"]`);
  await page.goto(`${hub}/console/sync`);
  expect(await page.locator(`a[href^="/console/sync/${warehouseId}/"]`).count() === 0, 'its streams left the sync page');
  // A revoked shop is authorized again in place: the same row, active, with its data.
  await page.goto(`${hub}/console/shops`);
  await revokedRow.getByRole('button', { name: /Re-authorize/ }).click();
  await page.locator('#username').fill(seller.app_key);
  await page.locator('#password').fill(seller.password);
  await page.locator('#authorize').click();
  await page.waitForSelector('#title');
  expect(await page.locator('#title').textContent() === 'Shop re-authorized', 'the revoked shop is authorized again');
  await page.goto(`${hub}/console/shops`);
  expect(await revokedRow.locator('.badge').first().textContent() === 'Active', 'the same shop is active again');
  // Revoked once more, then deleted.
  page.once('dialog', (dialog) => dialog.accept());
  await revokedRow.getByRole('button', { name: /Revoke/ }).click();
  await page.waitForURL(/done=revoked/);
  page.once('dialog', (dialog) => dialog.accept());
  await revokedRow.getByRole('button', { name: /Delete/ }).click();
  await page.waitForURL(/done=deleted/);
  expect(await page.locator(`tr[data-shop="${warehouseId}"]`).count() === 0, 'the deleted shop is gone');

  // Every page in both languages, at desktop and at phone width.
  for (const [phone, viewport] of [[false, { width: 1280, height: 900 }], [true, { width: 390, height: 844 }]]) {
    await page.setViewportSize(viewport);
    for (const lang of ['zh', 'en']) {
      for (const [name, path] of tour) {
        const separator = path.includes('?') ? '&' : '?';
        await page.goto(`${hub}${path}${separator}lang=${lang}`);
        await check(page, name, lang, phone);
      }
    }
  }
  expect(problems.length === 0, `no console errors, failed requests or error statuses:\n${problems.join('\n')}`);
  console.log(`console e2e: ${tour.length} pages passed in both languages at both widths; screenshots in e2e/screenshots`);
} finally {
  await browser.close();
  child.kill();
}
