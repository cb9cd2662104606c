// Drives the web console of `shopbridge serve` (demo mode) in headless Chromium: sign in,
// connect a Vipshop shop through the sandbox's login page and re-authorize it, watch a sync
// finish, find an order, see the earnings chart after the sandbox's clock moves on, splice a
// link. Writes a screenshot of each page to e2e/screenshots/. Exits non-zero on the first
// failed expectation.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
try {
  const demo = await json(`${hub}/demo/credentials`);
  const sandbox = demo.sandbox;
  const platform = await json(`${sandbox}/_sandbox/credentials`);
  const vendor = platform.vop.users.find((user) => user.role === 'vendor');
  const bearer = { authorization: `Bearer ${demo.appkey}:${demo.appsecret}` };
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

  const signIn = async () => {
    await page.goto(`${hub}/console/login?lang=en`);
    await page.getByLabel('App key').fill(demo.appkey);
    await page.getByLabel('App secret').fill(demo.appsecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/shops/);
  };

  // Sign in.
  await signIn();
  expect(await page.locator('h1').textContent() === 'Shops', 'the shops page after signing in');
  expect(await page.locator('tr[data-shop]').count() === 3, 'the three demo shops');

  // Connect a Vipshop JIT shop through the sandbox's login and consent pages.
  // The form is found by its button, and its fields by their labels, as a person finds them.
  const jitForm = page.locator('form', { has: page.getByRole('button', { name: 'Connect Vipshop JIT' }) });
  await jitForm.getByLabel('Name').fill('新开的唯品会JIT店铺（测试一个很长的中文名字，看看表格是否还能保持整齐）');
  await jitForm.getByLabel('Vendor id').fill(String(platform.vop.vendor_id));
  await jitForm.getByRole('button', { name: 'Connect Vipshop JIT' }).click();
  await page.locator('#username').fill(vendor.username);
  await page.locator('#password').fill(vendor.password);
  await page.locator('#login').click();
  await page.locator('#approve').click();
  await page.waitForSelector('#title');
  expect((await page.locator('#title').textContent()).includes('Connected'), 'the hub stored the shop');
  await page.getByRole('link', { name: /Console/ }).click();
  expect(await page.locator('tr[data-shop]').count() === 4, 'the new shop is listed');
  expect(await page.locator('[data-expires]').count() >= 2, 'token expiry countdowns');

  // Re-authorize that shop: the platform's pages again, and the same shop comes back.
  const newShop = page.locator('tr[data-shop]', { hasText: '新开的唯品会JIT店铺' });
  const newShopId = await newShop.getAttribute('data-shop');
  await newShop.getByRole('button', { name: /Re-authorize/ }).click();
  await page.locator('#username').fill(vendor.username);
  await page.locator('#password').fill(vendor.password);
  await page.locator('#login').click();
  await page.locator('#approve').click();
  await page.waitForSelector('#title');
  expect((await page.locator('#title').textContent()).includes('Re-authorized'), 'the same shop authorized again');
  await page.getByRole('link', { name: /Console/ }).click();
  expect(await page.locator('tr[data-shop]').count() === 4, 'no second shop');
  expect(await page.locator(`tr[data-shop="${newShopId}"]`).count() === 1, 'the same connection');
  await page.screenshot({ path: join(shots, 'shops.png'), fullPage: true });

  // Watch a sync finish.
  await page.goto(`${hub}/console/sync?lang=en`);
  await page.getByRole('button', { name: 'Sync now' }).click();
  await page.waitForURL(/\/console\/sync/);
  // The page reloads itself while runs are live; look until every stream has completed.
  let done = false;
  for (let i = 0; i < 240 && !done; i++) {
    const states = await page.locator('tr[data-stream] td:nth-child(3)').allTextContents();
    done = states.length >= 8 && states.every((state) => state === 'complete');
    if (!done) {
      await page.waitForTimeout(250);
      await page.goto(`${hub}/console/sync?lang=en`);
    }
  }
  expect(done, 'every stream to finish');
  await page.screenshot({ path: join(shots, 'sync.png'), fullPage: true });

  // Find an order and open it.
  const jit = demo.shops.find((shop) => shop.platid === '9002');
  await page.goto(`${hub}/console/orders?shop=${jit.connection_id}&lang=en`);
  const first = (await page.locator('tbody a').first().textContent()).trim();
  await page.getByLabel('Order number (start)').fill(first);
  await page.getByRole('button', { name: 'Go' }).click();
  expect(await page.locator('tbody tr').count() === 1, `one order matches ${first}`);
  await page.screenshot({ path: join(shots, 'orders.png'), fullPage: true });
  await page.locator('tbody a').first().click();
  expect((await page.locator('pre').textContent()).includes(first), 'the order detail');

  // Splice a link, and make buyers click a generated one.
  const union = demo.shops.find((shop) => shop.platid === '9001');
  const goods = await json(`${hub}/v1/union/goods?shop=${union.connection_id}&page_size=1`, { headers: bearer });
  const goodsId = goods.goodsInfoList[0].goodsId;
  await page.goto(`${hub}/console/links?lang=en`);
  await page.getByLabel('Paste text or a link').fill(`快看 https://m.vip.com/product-1-${goodsId}.html 超值`);
  await page.getByLabel('chanTag (PID)').fill('pid_e2e');
  await page.getByRole('button', { name: 'Detect and generate' }).click();
  const spliced = await page.locator('[data-spliced]').first().textContent();
  expect(spliced.includes('chanTag=pid_e2e'), `a spliced link, got ${spliced}`);
  const link = await page.locator('code[data-link="url"]').first().textContent();
  await page.screenshot({ path: join(shots, 'links.png'), fullPage: true });
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
  await page.goto(`${hub}/console/earnings?shop=${union.connection_id}&days=45&lang=en`);
  expect(await page.locator('svg[role="img"] rect').count() >= 45, 'a bar per day');
  expect(await page.locator('tr[data-pid="pid_e2e"]').count() === 1, 'the PID earned');
  await page.screenshot({ path: join(shots, 'earnings.png'), fullPage: true });

  // Activity, and the phone width.
  await page.goto(`${hub}/console/activity?lang=en`);
  await page.screenshot({ path: join(shots, 'activity.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${hub}/console/shops`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 1, `no horizontal page scroll at phone width (got ${overflow}px)`);
  await page.screenshot({ path: join(shots, 'shops-phone.png'), fullPage: true });
  console.log('console e2e: all pages passed; screenshots in e2e/screenshots');
} finally {
  await browser.close();
  child.kill();
}
